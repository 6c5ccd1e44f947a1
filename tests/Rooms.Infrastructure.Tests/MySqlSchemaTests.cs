using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;
using Rooms.TestSupport;

namespace Rooms.Infrastructure.Tests;

/// <summary>The MySQL schema the migrations make, read back from a real MariaDB.</summary>
public sealed class MySqlSchemaTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.MySql);

    public async Task InitializeAsync()
    {
        await using var db = _database.OpenContext();
        await db.Database.MigrateAsync();
    }

    public Task DisposeAsync()
    {
        _database.Dispose();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("messages", "message_type", "enum('broadcast','direct')", "NO")]
    [InlineData("messages", "message_content", "text", "NO")]
    [InlineData("messages", "sent_at", "datetime(6)", "NO")]
    [InlineData("messages", "to_device_id", "varchar(64)", "YES")]
    [InlineData("connections", "connected_at", "datetime(6)", "NO")]
    [InlineData("connections", "disconnected_at", "datetime(6)", "YES")]
    [InlineData("rooms", "room_id", "varchar(32)", "NO")]
    [InlineData("devices", "last_room_id", "varchar(32)", "YES")]
    [InlineData("room_queries", "queried_at", "datetime(6)", "NO")]
    public async Task Column_HasTypeThatFitsTheData(string table, string column, string type, string nullable)
    {
        var (actualType, actualNullable) = await ColumnAsync(table, column);

        Assert.Equal((type, nullable), (actualType, actualNullable));
    }

    [Theory]
    [InlineData("connections", "disconnected_at")]
    [InlineData("messages", "sent_at")]
    [InlineData("messages", "room_id")]
    [InlineData("messages", "message_type")]
    [InlineData("connections", "device_id")]
    [InlineData("room_queries", "room_id")]
    public async Task Index_LeadsWithLookedUpColumn(string table, string column)
    {
        var count = await ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = @t AND column_name = @c AND seq_in_index = 1",
            ("@t", table), ("@c", column));

        Assert.True(count > 0, $"no index on {table}({column}, ...)");
    }

    [Fact]
    public async Task Migrations_KeepTheDatabaseCollationTheDbaChose()
    {
        // The test database is created as the README says: CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci.
        var database = new MySqlConnectionStringBuilder(_database.ConnectionString).Database;

        var collation = await RowsAsync($"SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{database}'");

        Assert.Equal("utf8mb4_unicode_ci", Assert.Single(collation)[0]);
    }

    [Fact]
    public async Task MonitoringQueries_FromTheOriginalDocumentation_RunUnchanged()
    {
        var now = DateTime.UtcNow;
        await using (var db = _database.OpenContext())
        {
            db.Rooms.Add(new RoomRow { RoomId = "ABC123", CreatedAt = now });
            db.Devices.AddRange(
                new DeviceRow { DeviceId = "d1", Identity = "one", LastConnectedAt = now, LastRoomId = "ABC123" },
                new DeviceRow { DeviceId = "d2", Identity = "two", LastConnectedAt = now, LastRoomId = "ABC123" });
            db.Connections.AddRange(
                new ConnectionRow { DeviceId = "d1", RoomId = "ABC123", ClientIp = "127.0.0.1", ConnectedAt = now },
                new ConnectionRow { DeviceId = "d2", RoomId = "ABC123", ClientIp = "127.0.0.1", ConnectedAt = now, DisconnectedAt = now });
            db.Messages.AddRange(
                new MessageRow { RoomId = "ABC123", FromDeviceId = "d1", MessageType = "broadcast", MessageContent = "a", SentAt = now },
                new MessageRow { RoomId = "ABC123", FromDeviceId = "d1", MessageType = "broadcast", MessageContent = "b", SentAt = now },
                new MessageRow { RoomId = "ABC123", FromDeviceId = "d2", ToDeviceId = "d1", MessageType = "direct", MessageContent = "c", SentAt = now });
            await db.SaveChangesAsync();
        }

        // Verbatim from docs/protocol.md ("Storage"). The server stores UTC; the session runs in UTC so NOW() agrees.
        var active = await RowsAsync("SELECT device_id, room_id, connected_at FROM connections WHERE disconnected_at IS NULL;");
        var byType = await RowsAsync("SELECT message_type, COUNT(*) as count FROM messages GROUP BY message_type;");
        var activity = await RowsAsync("""
            SELECT room_id, COUNT(DISTINCT from_device_id) as active_devices
            FROM messages WHERE sent_at > DATE_SUB(NOW(), INTERVAL 1 HOUR) GROUP BY room_id;
            """);

        Assert.Equal([["d1", "ABC123"]], active.Select(r => r.Take(2).ToArray()));
        Assert.Equal([["broadcast", "2"], ["direct", "1"]], byType.OrderBy(r => r[0]));
        Assert.Equal([["ABC123", "2"]], activity);
    }

    private async Task<(string Type, string Nullable)> ColumnAsync(string table, string column)
    {
        var rows = await RowsAsync(
            "SELECT column_type, is_nullable FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = @t AND column_name = @c",
            ("@t", table), ("@c", column));
        var row = Assert.Single(rows);
        return (row[0], row[1]);
    }

    private async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(connection, sql, parameters);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<string[]>> RowsAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string[]>();
        while (await reader.ReadAsync())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount)
                .Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!)
                .ToArray());
        }

        return rows;
    }

    private async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var utc = new MySqlCommand("SET time_zone = '+00:00'", connection);
        await utc.ExecuteNonQueryAsync();
        return connection;
    }

    private static MySqlCommand Command(MySqlConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}

using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Infrastructure.Persistence.Rows;
using static Rooms.Infrastructure.Persistence.RawSql;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Stores a batch of identifies in one transaction with four statements, whatever its size: the new rooms,
/// one multi-row upsert of the devices, one multi-row INSERT of the connection rows, and one query for
/// their ids. EF Core's SaveChanges sends an INSERT and an id read per connection and an UPDATE per
/// device; measured in a reconnect storm, that was most of what the database did. The ids are read back
/// as each device's newest open row of this node: this node's identifies are written by one writer, one
/// batch at a time, and a device appears once per batch. Table and column names come from the EF model.
/// </summary>
internal static class ConnectionBatchInsert
{
    public static async Task<ConnectionId[]> InsertAsync(RoomsDbContext db, IReadOnlyList<NewConnection> batch)
    {
        await using var efTransaction = await db.Database.BeginTransactionAsync();
        var transaction = efTransaction.GetDbTransaction();
        var newRooms = batch.Where(c => c.RoomIsNew).ToList();
        if (newRooms.Count > 0)
        {
            await ExecuteAsync(transaction, InsertSql(db, Table<RoomRow>(db), newRooms.Count, null, nameof(RoomRow.RoomId), nameof(RoomRow.CreatedAt)),
                [.. newRooms.SelectMany(c => new object?[] { c.RoomId.Value, c.ConnectedAt })]);
        }

        await ExecuteAsync(transaction,
            InsertSql(db, Table<DeviceRow>(db), batch.Count, nameof(DeviceRow.DeviceId),
                nameof(DeviceRow.DeviceId), nameof(DeviceRow.Identity), nameof(DeviceRow.LastConnectedAt), nameof(DeviceRow.LastRoomId)),
            [.. batch.SelectMany(c => new object?[] { c.Device.DeviceId.Value, c.Device.Identity, c.Device.LastConnectedAt, c.Device.LastRoomId?.Value })]);

        await ExecuteAsync(transaction,
            InsertSql(db, Table<ConnectionRow>(db), batch.Count, null,
                nameof(ConnectionRow.DeviceId), nameof(ConnectionRow.RoomId), nameof(ConnectionRow.ClientIp), nameof(ConnectionRow.NodeId), nameof(ConnectionRow.ConnectedAt)),
            [.. batch.SelectMany(c => new object?[] { c.Device.DeviceId.Value, c.RoomId.Value, c.ClientIp, c.NodeId.Value, c.ConnectedAt })]);

        var connections = Table<ConnectionRow>(db);
        var (id, device, node, disconnected) = (Column(connections, nameof(ConnectionRow.Id)), Column(connections, nameof(ConnectionRow.DeviceId)),
            Column(connections, nameof(ConnectionRow.NodeId)), Column(connections, nameof(ConnectionRow.DisconnectedAt)));
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = Command(transaction,
            $"SELECT {device}, MAX({id}) FROM {connections.Name} WHERE {node} = @p0 AND {disconnected} IS NULL AND {device} IN ("
            + string.Join(", ", Enumerable.Range(1, batch.Count).Select(i => "@p" + i)) + $") GROUP BY {device};",
            [batch[0].NodeId.Value, .. batch.Select(c => c.Device.DeviceId.Value)]))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        await efTransaction.CommitAsync();
        return [.. batch.Select(c => new ConnectionId(ids[c.Device.DeviceId.Value]))];
    }

    /// <summary>A multi-row INSERT; with <paramref name="upsertKey"/>, rows whose key exists update their other columns instead.</summary>
    private static string InsertSql(RoomsDbContext db, (IEntityType Entity, string Name) table, int rows, string? upsertKey, params string[] properties)
    {
        var sql = RawSql.Insert(table, rows, properties);
        if (upsertKey is null)
        {
            return sql + ";";
        }

        var key = Column(table, upsertKey);
        var others = properties.Select(p => Column(table, p)).Where(c => c != key).ToArray();
        return db.Database.IsSqlite()
            ? sql + $" ON CONFLICT({key}) DO UPDATE SET " + string.Join(", ", others.Select(c => $"{c} = excluded.{c}")) + ";"
            : sql + " ON DUPLICATE KEY UPDATE " + string.Join(", ", others.Select(c => $"{c} = VALUES({c})")) + ";";
    }

    private static async Task ExecuteAsync(DbTransaction transaction, string sql, object?[] values)
    {
        await using var command = Command(transaction, sql, values);
        await command.ExecuteNonQueryAsync();
    }
}

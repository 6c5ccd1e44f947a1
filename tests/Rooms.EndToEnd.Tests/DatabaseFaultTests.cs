using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>A MariaDB of the tests' own, stopped (SIGSTOP), killed (SIGKILL) and restarted on its data folder.</summary>
public sealed class PrivateMariaDb : IDisposable
{
    public MariaDbServer Server { get; } = MariaDbServer.StartPrivate();

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// The database stalls, dies and comes back while devices connect, talk and leave: nothing that was
/// delivered is lost, nobody is told "not delivered" about a stored message, and every row is closed.
/// </summary>
public sealed class DatabaseFaultTests(PrivateMariaDb mariaDb) : IClassFixture<PrivateMariaDb>, IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.OnServer(mariaDb.Server);
    private readonly List<IAsyncDisposable> _disposables = [];

    private MariaDbServer Db => mariaDb.Server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        Db.Resume();
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }

        _database.Dispose();
    }

    private async Task<RoomsServer> StartServerAsync(params string[] args)
    {
        var server = await RoomsServer.StartAsync(_database, args);
        _disposables.Add(server);
        return server;
    }

    private async Task<(TestClient Client, string RoomId)> IdentifiedAsync(RoomsServer server, string deviceId, string? roomId = null)
    {
        var (client, room) = await TestClient.IdentifiedAsync(server, deviceId, roomId);
        client.IgnoresPresence = true;
        _disposables.Add(client);
        return (client, room.GetProperty("room_id").GetString()!);
    }

    [Fact]
    public async Task DatabaseStalledDuringIdentify_ClientIsNotClosedByTheDeadline_AnsweredWhenItResumes()
    {
        var server = await StartServerAsync("--Rooms:IdentifyTimeout=00:00:01");
        var client = await TestClient.ConnectAsync(server);
        _disposables.Add(client);
        await client.ReceiveAsync();

        Db.Pause();
        try
        {
            await client.SendAsync("""{"device_id":"patient","identity":"p"}""");
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }
        finally
        {
            Db.Resume();
        }

        var room = await client.ReceiveAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(("room", "created_new"), (room.GetProperty("type").GetString(), room.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task DisconnectsWhileTheDatabaseIsDown_RowsClosedWithTheirTimeOnceItIsBack()
    {
        var server = await StartServerAsync();
        var (first, roomId) = await IdentifiedAsync(server, "leaver0");
        var leavers = new List<TestClient> { first };
        for (var i = 1; i < 10; i++)
        {
            leavers.Add((await IdentifiedAsync(server, $"leaver{i}", roomId)).Client);
        }

        Db.Kill();
        var before = DateTime.UtcNow.AddSeconds(-1);
        foreach (var leaver in leavers)
        {
            await leaver.CloseAsync();
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = DateTime.UtcNow;
        Db.Restart();

        await WaitUntilAsync(TimeSpan.FromSeconds(30), async () =>
        {
            await using var db = _database.OpenContext();
            return await db.Connections.CountAsync(c => c.DisconnectedAt == null) == 0;
        });
        await using var check = _database.OpenContext();
        Assert.All(await check.Connections.Select(c => c.DisconnectedAt).ToListAsync(), at => Assert.InRange(at!.Value, before, after));
    }

    [Fact]
    public async Task DatabaseKilledWhileMessagesFlow_NothingReportedFailedIsStored_NothingAcknowledgedIsLost()
    {
        var server = await StartServerAsync(RoomsServer.Unthrottled);
        var (sender, roomId) = await IdentifiedAsync(server, "sender");
        var (reader, _) = await IdentifiedAsync(server, "reader", roomId);
        var (acked, failed) = (new List<string>(), new List<string>());
        var received = new List<string>();
        using var stop = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    received.Add((await reader.ReceiveAsync(TimeSpan.FromSeconds(1))).GetProperty("content").GetString()!);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });

        for (var i = 0; i < 600; i++)
        {
            if (i == 200)
            {
                Db.Kill();
            }

            if (i == 400)
            {
                Db.Restart();
            }

            await sender.SendAsync($$"""{"type":"message","content":"m{{i}}","id":"c{{i}}"}""");
            var answer = await sender.ReceiveAsync(TimeSpan.FromSeconds(60));
            (answer.GetProperty("type").GetString() == "ack" ? acked : failed).Add($"m{i}");
        }

        await stop.CancelAsync();
        await reading;
        await using var db = _database.OpenContext();
        var stored = (await db.Messages.Select(m => m.MessageContent).ToListAsync()).ToHashSet();
        Assert.True(acked.Count >= 400, $"{acked.Count} acknowledged");
        Assert.All(acked, content => Assert.Contains(content, stored));
        Assert.All(failed, content => Assert.DoesNotContain(content, stored));
        Assert.All(received, content => Assert.Contains(content, stored));
        Assert.Equal(stored.Count, acked.Count);
    }

    [Fact]
    public async Task BurstOfIdentifies_UsesAtMostMaxPoolSizeConnections()
    {
        var server = await StartServerAsync("--Database:MaxPoolSize=6");
        var (_, roomId) = await IdentifiedAsync(server, "host");

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => IdentifiedAsync(server, $"burst{i}", roomId)));

        var database = new MySqlConnectionStringBuilder(_database.ConnectionString).Database;
        await using var connection = new MySqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{database}'";

        // Ours (1) plus the server's pool.
        Assert.InRange(Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture), 2, 7);
    }

    [Fact]
    public async Task ReconnectStorm_EveryDeviceIsBackNoneClosedByTheDeadline()
    {
        var server = await StartServerAsync("--Rooms:IdentifyTimeout=00:00:02", "--Rooms:MaxConnectionsPerIp=5000");
        var devices = new List<(string DeviceId, string RoomId)>();
        for (var r = 0; r < 50; r++)
        {
            var (first, roomId) = await IdentifiedAsync(server, $"storm{r}-0");
            devices.Add(($"storm{r}-0", roomId));
            for (var d = 1; d < 20; d++)
            {
                devices.Add(($"storm{r}-{d}", (await IdentifiedAsync(server, $"storm{r}-{d}", roomId)).RoomId));
            }
        }

        foreach (var disposable in _disposables.OfType<TestClient>().ToList())
        {
            await disposable.CloseAsync();
        }

        // All 1 000 at once, as after a restart: each connects, then identifies without a room id.
        var rooms = await Task.WhenAll(devices.Select(async device =>
        {
            var client = await TestClient.ConnectAsync(server);
            _disposables.Add(client);
            await client.ReceiveAsync(TimeSpan.FromSeconds(60));
            await client.SendAsync(JsonSerializer.Serialize(new { device_id = device.DeviceId, identity = "s" }));
            var room = await client.ReceiveAsync(TimeSpan.FromSeconds(60));
            return (Expected: device.RoomId, Status: room.GetProperty("status").GetString(), RoomId: room.GetProperty("room_id").GetString());
        }));

        Assert.All(rooms, r => Assert.Equal(("reconnected", r.Expected), (r.Status, r.RoomId)));
    }

    private static async Task WaitUntilAsync(TimeSpan bound, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (MySqlException) when (DateTime.UtcNow < deadline)
            {
                // Still starting.
            }

            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {bound}");
            await Task.Delay(100);
        }
    }
}

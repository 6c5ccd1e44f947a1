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
        Db.EnsureRunning();
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

    /// <summary>
    /// A sender at half the rate limit on its own clock: while the database stalls, its frames wait unread in the socket,
    /// and when it resumes they are read at once. That backlog is the server's, not the client's: nothing is refused.
    /// </summary>
    [Fact]
    public async Task DatabaseStall_SenderWithinTheRateOnItsOwnClock_NeverRefusedNorClosed_EveryMessageStored()
    {
        var server = await StartServerAsync("--Rooms:MessagesPerSecond=20", "--Rooms:MessageBurst=10", "--Rooms:MaxRejectedMessages=3");
        var (sender, _) = await IdentifiedAsync(server, "steady");
        var answers = new List<string>();
        var reading = Task.Run(async () =>
        {
            while (answers.Count < 60)
            {
                var frame = await sender.ReceiveAsync(TimeSpan.FromSeconds(30));
                answers.Add(frame.GetProperty("type").GetString() == "ack" ? "ack" : frame.ToString());
            }
        });

        // 10 a second for 6 s; the database freezes for 3 s of it (30 frames pile up, three times the burst).
        for (var i = 0; i < 60; i++)
        {
            if (i == 10)
            {
                Db.Pause();
            }

            if (i == 40)
            {
                Db.Resume();
            }

            await sender.SendObjectAsync(new { type = "message", content = $"m{i}", id = $"m{i}" });
            await Task.Delay(100);
        }

        Db.Resume();
        await reading;
        Assert.All(answers, a => Assert.Equal("ack", a));
        await using var db = _database.OpenContext();
        Assert.Equal(60, await db.Messages.CountAsync(m => m.FromDeviceId == "steady"));
    }

    [Fact]
    public async Task Readiness_FalseWhileTheDatabaseIsDown_TrueWhenItIsBack()
    {
        var server = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        Db.Kill();
        var down = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, down.StatusCode);
        using (var report = JsonDocument.Parse(await down.Content.ReadAsStringAsync()))
        {
            var database = report.RootElement.GetProperty("checks").GetProperty("database");
            Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
            Assert.Contains("unreachable", database.GetProperty("description").GetString());
        }

        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Db.Restart();
        await WaitUntilAsync(TimeSpan.FromSeconds(30), async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);
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
        var server = await StartServerAsync(["--Rooms:IdentifyTimeout=00:00:02", "--Rooms:MaxConnectionsPerIp=5000", "--Rooms:MaxUnidentifiedConnectionsPerIp=5000", .. RoomsServer.Unthrottled]);
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

    [Fact]
    public async Task OutageUnderTraffic_LoggedOnceWithItsExceptionThenCountedThenItsEnd()
    {
        using var work = new WorkFolder();
        var port = MariaDbServer.FreePort();
        using var host = HostProcess.Start(work.Path, [], HostEnvironment(port, "log-node"));
        await host.WaitForHealthAsync(port);
        await using var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.ReceiveAsync();
        await client.IdentifyAsync("chatty");

        Db.Kill();
        for (var i = 0; i < 200; i++)
        {
            await client.SendAsync($$"""{"type":"message","content":"m{{i}}","id":"c{{i}}"}""");
            await client.ExpectErrorAsync("Message not delivered");
        }

        Db.Restart();
        await WaitUntilAsync(TimeSpan.FromSeconds(30), async () =>
        {
            await client.SendAsync("""{"type":"message","content":"back","id":"back"}""");
            return (await client.ReceiveAsync(TimeSpan.FromSeconds(30))).GetProperty("type").GetString() == "ack";
        });
        await WaitUntilAsync(TimeSpan.FromSeconds(10), () => Task.FromResult(host.Output.Contains("Storage available again", StringComparison.Ordinal)));

        var output = host.Output;
        var stackLines = output.Split('\n').Count(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.Equal(1, Occurrences(output, "Storage unavailable (message failed)"));
        Assert.InRange(stackLines, 1, 150);
        Assert.Contains("operations failed meanwhile", output);
    }

    [Fact]
    public async Task SigtermWithTheDatabaseDown_RowsClosedByTheNodesNextStartAtItsLastHeartbeat()
    {
        using var work = new WorkFolder();
        var port = MariaDbServer.FreePort();
        var environment = HostEnvironment(port, "term-node");
        using (var host = HostProcess.Start(work.Path, [], environment))
        {
            await host.WaitForHealthAsync(port);
            for (var i = 0; i < 5; i++)
            {
                var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
                _disposables.Add(client);
                await client.ReceiveAsync();
                await client.IdentifyAsync($"term{i}");
            }

            Db.Kill();
            host.Terminate();
            Assert.True(host.Process.WaitForExit(30_000), "the node did not stop on SIGTERM");
        }

        Db.Restart();
        using (var restarted = HostProcess.Start(work.Path, [], environment))
        {
            await restarted.WaitForHealthAsync(port);
        }

        await using var db = _database.OpenContext();
        var rows = await db.Connections.Where(c => c.NodeId == "term-node").ToListAsync();
        Assert.Equal(5, rows.Count);
        Assert.All(rows, r => Assert.True(r.DisconnectedAt >= r.ConnectedAt, $"closed at {r.DisconnectedAt}, opened at {r.ConnectedAt}"));
    }

    [Fact]
    public async Task ServerKilledUnderLoadThenRestarted_EveryMessageAnyClientReceivedIsStored()
    {
        using var work = new WorkFolder();
        var port = MariaDbServer.FreePort();
        var environment = HostEnvironment(port, "doomed-node");
        var received = new List<string>();
        using (var host = HostProcess.Start(work.Path, [], environment))
        {
            await host.WaitForHealthAsync(port);
            var uri = new Uri($"ws://127.0.0.1:{port}/");
            await using var sender = await TestClient.ConnectAsync(uri);
            await sender.ReceiveAsync();
            var roomId = (await sender.IdentifyAsync("sender")).GetProperty("room_id").GetString();
            await using var reader = await TestClient.ConnectAsync(uri);
            await reader.ReceiveAsync();
            await reader.IdentifyAsync("reader", roomId);
            reader.IgnoresPresence = sender.IgnoresPresence = true;

            var reading = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var content = (await reader.ReceiveAsync(TimeSpan.FromSeconds(10))).GetProperty("content").GetString()!;
                        lock (received)
                        {
                            received.Add(content);
                        }
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.Net.WebSockets.WebSocketException or OperationCanceledException)
                {
                    // The server is gone.
                }
            });
            var sending = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; ; i++)
                    {
                        await sender.SendAsync($$"""{"type":"message","content":"k{{i}}"}""");
                        await Task.Delay(2);
                    }
                }
                catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException or IOException)
                {
                    // The server is gone.
                }
            });

            await WaitUntilAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(Volatile.Read(ref received).Count >= 300));
            host.Process.Kill(entireProcessTree: true);
            await host.Process.WaitForExitAsync();
            await Task.WhenAll(reading, sending);
        }

        using (var restarted = HostProcess.Start(work.Path, [], environment))
        {
            await restarted.WaitForHealthAsync(port);
        }

        await using var db = _database.OpenContext();
        var stored = (await db.Messages.Select(m => m.MessageContent).ToListAsync()).ToHashSet();
        Assert.True(received.Count >= 300);
        Assert.All(received, content => Assert.Contains(content, stored));
        Assert.Equal(0, await db.Connections.CountAsync(c => c.NodeId == "doomed-node" && c.DisconnectedAt == null));
    }

    private Dictionary<string, string> HostEnvironment(int port, string nodeId) => new()
    {
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        ["Database__Provider"] = "MySql",
        ["ConnectionStrings__Rooms"] = _database.ConnectionString,
        ["Database__MySqlServerVersion"] = _database.Settings.MySqlServerVersion,
        ["Cluster__NodeId"] = nodeId,
        ["Cluster__HeartbeatInterval"] = "00:00:00.500",
        ["Rooms__MessagesPerSecond"] = "100000",
        ["Rooms__MessageBurst"] = "100000",
    };

    private static int Occurrences(string text, string value) => text.Split(value).Length - 1;

    /// <summary>The working directory of a host process, removed afterwards.</summary>
    private sealed class WorkFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("rooms-fault-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>Also while the database is still starting: a connection error counts as "not yet".</summary>
    private static Task WaitUntilAsync(TimeSpan bound, Func<Task<bool>> condition) => Eventually.TrueAsync(async () =>
    {
        try
        {
            return await condition();
        }
        catch (MySqlException)
        {
            return false;
        }
    }, bound, pollMilliseconds: 100);
}

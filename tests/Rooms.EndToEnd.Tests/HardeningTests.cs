using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>Transport-level abuse and faults of docs/protocol.md "Limits": what a hostile or broken client gets.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private static readonly byte[] InvalidUtf8 = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'];

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InvalidUtf8_ClosesWith1007_BeforeAndAfterIdentify(bool identified)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var client = await TestClient.ConnectAsync(_server);
            await client.ReceiveAsync();
            if (identified)
            {
                await client.IdentifyAsync($"utf8-{attempt}");
            }

            await client.SendAsync(InvalidUtf8, WebSocketMessageType.Text);

            var (status, _) = await client.ExpectCloseAsync();
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        }

        await using var db = _database.OpenContext();
        Assert.Equal(0, await db.Messages.CountAsync());
    }

    [Fact]
    public async Task ClientThatStopsReading_DroppedByKeepAliveTimeout_RowClosedRoomHearsLeft()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:KeepAliveInterval=00:00:00.500", "--Rooms:KeepAliveTimeout=00:00:01");
        var (alice, room) = await TestClient.IdentifiedAsync(server, "alice");
        var roomId = room.GetProperty("room_id").GetString();
        var (silent, _) = await TestClient.IdentifiedAsync(server, "silent", roomId);
        Assert.Equal("joined", (await alice.ReceiveAsync()).GetProperty("event").GetString());

        // "silent" never reads again, so it never answers a ping; alice keeps reading (and answering).
        var left = await alice.ReceiveAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(("presence", "left", "silent"), (left.GetProperty("type").GetString(), left.GetProperty("event").GetString(), left.GetProperty("device_id").GetString()));
        Assert.Equal(1, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
        await WaitUntilAsync(async () =>
        {
            await using var db = _database.OpenContext();
            return await db.Connections.AnyAsync(c => c.DeviceId == "silent" && c.DisconnectedAt != null);
        });
        await silent.DisposeAsync();
        await alice.DisposeAsync();
    }

    [Fact]
    public async Task ClientStalledInsideAMessage_DroppedAfterMessageReceiveTimeout()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MessageReceiveTimeout=00:00:01");
        var (alice, room) = await TestClient.IdentifiedAsync(server, "alice");
        var (staller, _) = await TestClient.IdentifiedAsync(server, "staller", room.GetProperty("room_id").GetString());
        Assert.Equal("joined", (await alice.ReceiveAsync()).GetProperty("event").GetString());

        // The first half of a message, then nothing; the staller keeps reading, so pings alone would not drop it.
        await staller.SendFragmentAsync("""{"type":"message","con""");
        var ended = staller.ExpectEndAsync(TimeSpan.FromSeconds(10));

        var left = await alice.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(("left", "staller"), (left.GetProperty("event").GetString(), left.GetProperty("device_id").GetString()));
        await ended;
        await alice.DisposeAsync();
        await staller.DisposeAsync();
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition) => Eventually.TrueAsync(condition, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task OverTheRateLimit_ErrorFrameNothingStored_SustainedAbuseClosedWith1008()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MessagesPerSecond=10", "--Rooms:MessageBurst=20", "--Rooms:MaxRejectedMessages=30");
        var (alice, room) = await TestClient.IdentifiedAsync(server, "alice");
        var (bob, _) = await TestClient.IdentifiedAsync(server, "bob", room.GetProperty("room_id").GetString());
        alice.IgnoresPresence = bob.IgnoresPresence = true;

        // 100 frames at once: the burst (20, less the identify) passes, the rest is refused, and 30+ refusals close the connection.
        for (var i = 0; i < 100; i++)
        {
            await alice.SendAsync($$"""{"type":"message","content":"m{{i}}","id":"c{{i}}"}""");
        }

        var (acks, errors) = (0, 0);
        while (true)
        {
            string text;
            try
            {
                text = await alice.ReceiveTextAsync();
            }
            catch (InvalidOperationException closed)
            {
                Assert.Contains("PolicyViolation", closed.Message);
                break;
            }

            if (text.Contains("\"ack\"", StringComparison.Ordinal))
            {
                acks++;
            }
            else
            {
                Assert.Contains("Rate limit exceeded", text);
                errors++;
            }
        }

        Assert.InRange(acks, 15, 40);
        Assert.InRange(errors, 30, 85);
        await using var db = _database.OpenContext();
        Assert.Equal(acks, await db.Messages.CountAsync(m => m.FromDeviceId == "alice"));
        for (var i = 0; i < acks; i++)
        {
            Assert.Equal("message", (await bob.ReceiveAsync()).GetProperty("type").GetString());
        }

        Assert.Equal("room_info", (await bob.QueryRoomAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task ConnectionCaps_PerIpAndTotal_UpgradesRefusedWith503()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MaxConnectionsPerIp=2", "--Rooms:MaxConnections=3");
        var uri = server.WebSocketUri();
        await using var a1 = await TestClient.ConnectAsync(uri, forwardedFor: "203.0.113.1");
        await using var a2 = await TestClient.ConnectAsync(uri, forwardedFor: "203.0.113.1");

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, await TestClient.TryConnectAsync(uri, forwardedFor: "203.0.113.1"));
        await using var b1 = await TestClient.ConnectAsync(uri, forwardedFor: "203.0.113.2");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, await TestClient.TryConnectAsync(uri, forwardedFor: "203.0.113.3"));

        // A slot is free again once its connection ends.
        await a1.CloseAsync();
        await WaitUntilAsync(async () => await TestClient.TryConnectAsync(uri, forwardedFor: "203.0.113.1") == System.Net.HttpStatusCode.SwitchingProtocols);
    }

    [Fact]
    public async Task TrustedProxies_ForwardedForBelievedFromTheListedProxyOnly_CountedAndStoredPerClient()
    {
        // 127.0.0.2 plays a proxy on another host; 127.0.0.3 any other peer. Both are loopback, which is trusted by default.
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:TrustedProxies:0=127.0.0.2", "--Rooms:MaxConnectionsPerIp=2");
        var uri = server.WebSocketUri();
        var proxy = System.Net.IPAddress.Parse("127.0.0.2");
        var other = System.Net.IPAddress.Parse("127.0.0.3");
        var admitted = new List<TestClient>();
        try
        {
            // Through the proxy: two per forwarded client address, however many come through it.
            foreach (var client in new[] { "198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.2", "198.51.100.3" })
            {
                var (status, connected) = await TestClient.TryConnectFromAsync(uri, proxy, client);
                Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, status);
                admitted.Add(connected!);
            }

            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectFromAsync(uri, proxy, "198.51.100.1")).Status);

            // From another peer the header is ignored: its own address is the one counted.
            foreach (var client in new[] { "198.51.100.7", "198.51.100.8" })
            {
                var (status, connected) = await TestClient.TryConnectFromAsync(uri, other, client);
                Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, status);
                admitted.Add(connected!);
            }

            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectFromAsync(uri, other, "198.51.100.9")).Status);

            await admitted[4].ReceiveAsync();
            await admitted[4].IdentifyAsync("via-proxy");
            await admitted[5].ReceiveAsync();
            await admitted[5].IdentifyAsync("spoofing");
            await using var db = _database.OpenContext();
            Assert.Equal("198.51.100.3", (await db.Connections.SingleAsync(c => c.DeviceId == "via-proxy")).ClientIp);
            Assert.Equal("127.0.0.3", (await db.Connections.SingleAsync(c => c.DeviceId == "spoofing")).ClientIp);
        }
        finally
        {
            foreach (var client in admitted)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>A full disk answers reads and fails every write; a table gone is the same for the writes that need it.</summary>
    [Fact]
    public async Task WritesFailing_ReadinessSays503WithWhy_BackTo200OnceAWriteWorks()
    {
        await using var server = await RoomsServer.StartAsync(_database);
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var (client, _) = await TestClient.IdentifiedAsync(server, "disk-full");
        Assert.True((await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);
        await using (var db = _database.OpenContext())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE room_queries RENAME TO room_queries_away");
        }

        await client.SendAsync("""{"type":"query_room"}""");
        await client.ExpectErrorAsync("Room query failed: storage unavailable");

        var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("writes failing", await ready.Content.ReadAsStringAsync());

        await using (var db = _database.OpenContext())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE room_queries_away RENAME TO room_queries");
        }

        Assert.Equal("room_info", (await client.QueryRoomAsync()).GetProperty("type").GetString());
        Assert.True((await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);
        await client.DisposeAsync();
    }

    /// <summary>
    /// After a full disk, readiness stayed 503 until some client write succeeded, so a load balancer that had taken the
    /// node out never brought it back. Writes fail here while the "disk" is full (an interceptor fails every write
    /// command with SQLite's SQLITE_FULL); once it has room, readiness is 200 again without any client writing.
    /// </summary>
    [Fact]
    public async Task AfterADiskFullOutage_ReadinessComesBackWithoutAnyClientWrite()
    {
        var disk = new FullDisk();
        await using var server = await RoomsServer.StartAsync(_database, services => services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(disk),
            "--Cluster:HeartbeatInterval=00:00:00.500", "--Cluster:NodeTimeout=00:00:03");
        using var http = new HttpClient { BaseAddress = server.BaseUri };
        var (client, _) = await TestClient.IdentifiedAsync(server, "disk-full-2");

        disk.Full = true;
        await client.SendAsync("""{"type":"query_room"}""");
        await client.ExpectErrorAsync("Room query failed: storage unavailable");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);

        disk.Full = false;
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, TimeSpan.FromSeconds(10));
        await client.DisposeAsync();
    }

    /// <summary>Fails every command that writes while <see cref="Full"/>, as SQLite does on a full disk.</summary>
    private sealed class FullDisk : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public volatile bool Full;

        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int>> NonQueryExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
            Full ? throw new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13) : base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);

        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default) =>
            Full && !command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
                ? throw new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13)
                : base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }

    [Fact]
    public async Task AllowedOrigins_BrowserFromOtherOriginRefused403_NoOriginStillAccepted()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:AllowedOrigins:0=https://app.example.com");
        var uri = server.WebSocketUri();

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, await TestClient.TryConnectAsync(uri, origin: "https://evil.example.net"));
        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, await TestClient.TryConnectAsync(uri, origin: "https://app.example.com"));
        Assert.Equal(System.Net.HttpStatusCode.SwitchingProtocols, await TestClient.TryConnectAsync(uri));
    }

    [Fact]
    public async Task Health_LiveAndReady_ReportEachCheck()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
        using var report = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var checks = report.RootElement.GetProperty("checks");
        foreach (var name in new[] { "started", "database", "message-writer", "cluster" })
        {
            Assert.Equal("Healthy", checks.GetProperty(name).GetProperty("status").GetString());
        }

        Assert.Contains("schema up to date", checks.GetProperty("database").GetProperty("description").GetString());
        Assert.Equal("single node", checks.GetProperty("cluster").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Metrics_PrometheusTextMovesWhenMessagesFlow_KestrelMetersToo()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };
        var (alice, room) = await TestClient.IdentifiedAsync(_server, "metered-a");
        var (bob, _) = await TestClient.IdentifiedAsync(_server, "metered-b", room.GetProperty("room_id").GetString());
        alice.IgnoresPresence = bob.IgnoresPresence = true;
        var before = Sample(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)), "rooms_messages_stored{type=\"broadcast\"}");

        for (var i = 0; i < 5; i++)
        {
            await alice.SendObjectAsync(new { type = "message", content = $"m{i}" });
            await bob.ReceiveAsync();
        }

        await alice.SendAsync("not json");
        await alice.ExpectErrorAsync("Invalid JSON");
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(before + 5, Sample(text, "rooms_messages_stored{type=\"broadcast\"}"));
        Assert.True(Sample(text, "rooms_messages_forwarded{type=\"broadcast\"}") >= 5);
        Assert.True(Sample(text, "rooms_errors{kind=\"invalid_frame\"}") >= 1);
        Assert.True(Sample(text, "rooms_connections_open") >= 2);
        Assert.True(Sample(text, "rooms_identifies{status=\"created_new\"}") >= 1);
        Assert.Contains("rooms_store_commit_duration_bucket{le=\"0.005\"}", text);
        Assert.Contains("microsoft_aspnetcore_server_kestrel", text);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    /// <summary>The value of one series in Prometheus text format (0 when absent).</summary>
    private static double Sample(string text, string series)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}

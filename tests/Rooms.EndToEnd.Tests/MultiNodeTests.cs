using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;
using StackExchange.Redis;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// Several real hosts on free ports sharing one MariaDB and one Redis: the seed cases with a room's
/// devices spread across nodes, replacement across nodes, a node killed, Redis killed and restarted,
/// and subscriptions dropped. Timings are shrunk (presence TTL 3 s, node timeout 3 s) so bounds are short.
/// </summary>
public sealed class MultiNodeTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.MySql);
    private readonly string _keyPrefix = "rooms-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<TestClient> _clients = [];
    private readonly List<RoomsServer> _servers = [];
    private readonly List<IDisposable> _disposables = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        _database.Dispose();
    }

    [Fact]
    public async Task SpreadRoom_BroadcastDirectAndQueryFromEveryNode_AsOnOneServer()
    {
        var (a, b, c) = (await Node("node-a"), await Node("node-b"), await Node("node-c"));
        var (alice, room) = await Identified(a, "alice");
        var (bob, joined) = await Identified(b, "bob", room);
        var (carol, _) = await Identified(c, "carol", room);
        Assert.Equal("created_new", room.GetProperty("status").GetString());
        Assert.Equal("joined_existing", joined.GetProperty("status").GetString());
        var roomId = room.GetProperty("room_id").GetString()!;

        await alice.SendObjectAsync(new { type = "message", content = "from A" });
        await bob.SendObjectAsync(new { type = "message", content = "from B" });
        await alice.SendObjectAsync(new { type = "message", content = "A to B", target_device_id = "bob" });
        await bob.SendObjectAsync(new { type = "message", content = "B to A", target_device_id = "alice" });
        await carol.SendObjectAsync(new { type = "message", content = "from C" });

        // Order is kept per sender; between senders on different nodes it is whatever Redis saw first.
        Assert.Equal(["B to A", "from B", "from C"], (await Contents(alice, 3)).Order());
        Assert.Equal(["A to B", "from A", "from C"], (await Contents(bob, 3)).Order());
        Assert.Equal(["from A", "from B"], (await Contents(carol, 2)).Order());
        foreach (var (client, self) in new[] { (alice, "alice"), (bob, "bob"), (carol, "carol") })
        {
            var info = await client.QueryRoomAsync();
            Assert.Equal(3, info.GetProperty("total_clients").GetInt32());
            Assert.Equal(new[] { "alice", "bob", "carol" }.Where(d => d != self),
                info.GetProperty("clients").EnumerateArray().Select(e => e.GetProperty("device_id").GetString()).Order());
        }

        await using var db = _database.OpenContext();
        Assert.Equal(5, await db.Messages.CountAsync(m => m.RoomId == roomId));
        Assert.Equal(
            [("alice", "node-a"), ("bob", "node-b"), ("carol", "node-c")],
            (await db.Connections.OrderBy(r => r.DeviceId).Select(r => new { r.DeviceId, r.NodeId }).ToListAsync()).Select(r => (r.DeviceId, r.NodeId)));
    }

    [Fact]
    public async Task DirectToDeviceNotInRoomOnAnyNode_TargetNotFound()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (alice, room) = await Identified(a, "alice");
        await Identified(b, "elsewhere");

        await alice.SendObjectAsync(new { type = "message", content = "psst", target_device_id = "elsewhere" });

        await alice.ExpectErrorAsync("Target device not found: elsewhere");
        await using var db = _database.OpenContext();
        Assert.Equal(0, await db.Messages.CountAsync());
    }

    [Fact]
    public async Task PerSender_ManyMessagesAcrossNodes_ArriveInSendOrder()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (alice, room) = await Identified(a, "alice");
        var (bob, _) = await Identified(b, "bob", room);

        for (var i = 0; i < 300; i++)
        {
            await alice.SendObjectAsync(i % 3 == 0
                ? new { type = "message", content = $"m{i}", target_device_id = "bob" }
                : (object)new { type = "message", content = $"m{i}" });
        }

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"m{i}"), await Contents(bob, 300));
    }

    [Fact]
    public async Task SameDeviceOnAnotherNode_OlderClosedWith4001NewerStays()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (watcher, room) = await Identified(a, "watcher");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (older, _) = await Identified(a, "phone", roomId);

        var (newer, _) = await Identified(b, "phone", roomId);

        var (status, reason) = await older.ExpectCloseAsync();
        Assert.Equal((WebSocketCloseStatus)4001, status);
        Assert.Equal("replaced", reason);
        await watcher.SendObjectAsync(new { type = "message", content = "still there?" });
        Assert.Equal(["still there?"], await Contents(newer, 1));
        Assert.Equal(2, (await watcher.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Fact]
    public async Task SameDeviceConnectsOnTwoNodesAtOnce_ExactlyOneStays()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (watcher, room) = await Identified(a, "watcher");
        var roomId = room.GetProperty("room_id").GetString()!;

        for (var round = 0; round < 5; round++)
        {
            var connects = await Task.WhenAll(Identified(a, "twin", roomId), Identified(b, "twin", roomId));

            var outcomes = await Task.WhenAll(connects.Select(async c =>
            {
                try
                {
                    return (await c.Client.QueryRoomAsync()).GetProperty("type").GetString() == "room_info";
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }));

            // Exactly one of the two is alive: the other was closed (4001) before or after its query.
            var alive = connects.Where((_, i) => outcomes[i]).ToList();
            await Task.Delay(300);
            var stillAlive = new List<TestClient>();
            foreach (var (client, _) in alive)
            {
                try
                {
                    await client.QueryRoomAsync();
                    stillAlive.Add(client);
                }
                catch (InvalidOperationException)
                {
                }
            }

            Assert.Single(stillAlive);
            var listed = (await watcher.QueryRoomAsync()).GetProperty("clients").EnumerateArray().Count(e => e.GetProperty("device_id").GetString() == "twin");
            Assert.Equal(1, listed);
            foreach (var (client, _) in connects)
            {
                await client.CloseAsync();
            }
        }
    }

    [Fact]
    public async Task NodeKilled_ItsDevicesLeaveRoomListingsAndItsRowsAreClosedWithinBound()
    {
        var a = await Node("node-a");
        var (alice, room) = await Identified(a, "alice");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (watcher, _) = await Identified(a, "watcher", roomId, presence: true);
        var port = MariaDbServer.FreePort();
        var workDir = Directory.CreateTempSubdirectory("rooms-node-").FullName;
        try
        {
            using (var doomed = HostProcess.Start(workDir, [], ProcessEnvironment("node-doomed", port)))
            {
                await doomed.WaitForHealthAsync(port);
                await using var victim = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
                await victim.ReceiveAsync();
                await victim.IdentifyAsync("victim", roomId);
                Assert.Equal(3, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
                Assert.Equal(("joined", "victim"), Event(await watcher.ReceiveAsync()));

                doomed.Process.Kill(entireProcessTree: true);
                await doomed.Process.WaitForExitAsync();
            }

            // Its presence expires; the node that prunes it tells the room, once.
            Assert.Equal(("left", "victim"), Event(await watcher.ReceiveAsync(Bound)));
            await WaitUntil(async () => (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32() == 2);
            await WaitUntil(async () =>
            {
                await using var db = _database.OpenContext();
                return await db.Connections.AnyAsync(c => c.DeviceId == "victim" && c.NodeId == "node-doomed" && c.DisconnectedAt != null);
            });
            await using var check = _database.OpenContext();
            Assert.Null((await check.Connections.SingleAsync(c => c.DeviceId == "alice")).DisconnectedAt);
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }

    [Fact]
    public async Task AdminApi_ListsRoomsOfEveryNode()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (_, room) = await Identified(b, "only-on-b");
        var roomId = room.GetProperty("room_id").GetString();
        using var http = new HttpClient { BaseAddress = a.BaseUri };

        using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/rooms", UriKind.Relative)));

        var listed = list.RootElement.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("room_id").GetString() == roomId);
        var member = listed.GetProperty("members").EnumerateArray().Single();
        Assert.Equal(("only-on-b", "node-b"), (member.GetProperty("device_id").GetString(), member.GetProperty("node_id").GetString()));

        // The dashboard's figures: node A's stats list node B too, and its errors (posted through Redis every 2 s).
        var onB = _clients[^1];
        await onB.SendAsync("not json");
        await onB.ExpectErrorAsync("Invalid JSON");
        await WaitUntil(async () =>
        {
            using var stats = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/stats", UriKind.Relative)));
            return stats.RootElement.GetProperty("nodes").EnumerateArray()
                    .Any(n => n.GetProperty("node_id").GetString() == "node-b" && n.GetProperty("connections").GetInt32() == 1)
                && stats.RootElement.GetProperty("recent_errors").EnumerateArray()
                    .Any(e => e.GetProperty("node_id").GetString() == "node-b" && e.GetProperty("kind").GetString() == "invalid_frame");
        });
    }

    [Fact]
    public async Task Readiness_DegradedButReadyWhileRedisIsDown_TheNodeStillServesItsOwnMembers()
    {
        var redis = RedisServer.Start();
        _disposables.Add(redis);
        var a = await Node("node-a", redis);
        using var http = new HttpClient { BaseAddress = a.BaseUri };
        await WaitUntil(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);

        redis.Kill();

        // 200, so a readiness-routed load balancer keeps every node; the body and the metric say what is missing.
        var down = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(System.Net.HttpStatusCode.OK, down.StatusCode);
        using (var report = JsonDocument.Parse(await down.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Degraded", report.RootElement.GetProperty("status").GetString());
            Assert.Equal("Degraded", report.RootElement.GetProperty("checks").GetProperty("cluster").GetProperty("status").GetString());
            Assert.Equal("Healthy", report.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        }

        Assert.Contains("rooms_cluster_redis_up 0", await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        var (alice, room) = await Identified(a, "alice-alone");
        var (anna, _) = await Identified(a, "anna-alone", room);
        await alice.SendObjectAsync(new { type = "message", content = "still served" });
        Assert.Equal(["still served"], await Contents(anna, 1));

        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        redis.Restart();
        await WaitUntil(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode);
    }

    /// <summary>A mistyped Cluster:Redis used to give a node that reported ready (Degraded) and split the cluster silently.</summary>
    [Fact]
    public async Task Readiness_RedisThatNeverAnsweredSinceStart_NotReady_SaysWhy()
    {
        var server = await RoomsServer.StartAsync(_database,
        [
            $"--Cluster:Redis=127.0.0.1:{MariaDbServer.FreePort()},connectTimeout=500",
            "--Cluster:NodeId=node-typo",
            $"--Cluster:KeyPrefix={_keyPrefix}",
            .. RoomsServer.Unthrottled,
        ]);
        _servers.Add(server);
        using var http = new HttpClient { BaseAddress = server.BaseUri };

        var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        var cluster = report.RootElement.GetProperty("checks").GetProperty("cluster");
        Assert.Equal("Unhealthy", cluster.GetProperty("status").GetString());
        Assert.StartsWith("Redis has not answered since this node started: check Cluster:Redis", cluster.GetProperty("description").GetString());
    }

    [Fact]
    public async Task RedisKilledAndRestarted_NodesKeepServingLocallyThenSpanAgain()
    {
        var redis = RedisServer.Start();
        _disposables.Add(redis);
        var (a, b) = (await Node("node-a", redis), await Node("node-b", redis));
        var (alice, room) = await Identified(a, "alice");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (anna, _) = await Identified(a, "anna", roomId);
        var (bob, _) = await Identified(b, "bob", roomId);

        redis.Kill();
        await alice.SendObjectAsync(new { type = "message", content = "during outage" });
        Assert.Equal(["during outage"], await Contents(anna, 1));
        var (latecomer, _) = await Identified(a, "latecomer", roomId);

        redis.Restart();

        // Presence is written again by the nodes' refresh, subscriptions by StackExchange.Redis's reconnect.
        await WaitUntil(async () => (await bob.QueryRoomAsync()).GetProperty("total_clients").GetInt32() == 4);

        // What was sent during the outage never reached node B live; the next message shows the gap,
        // and node B fills it from the database: bob gets it first, in order, then the probes.
        Assert.Equal("during outage", await ProbeUntilReceivedAsync(alice, bob));
        await bob.SendObjectAsync(new { type = "message", content = "after restart" });
        Assert.Equal("after restart", (await ContentsUntil(latecomer, "after restart"))[^1]);

        await using var db = _database.OpenContext();
        Assert.True(await db.Messages.AnyAsync(m => m.MessageContent == "during outage"));
    }

    /// <summary>
    /// While Redis is down a node cannot learn that a device connected elsewhere, so for a while it is connected twice;
    /// once Redis is back, the nodes' presence refresh registers both generations and the older is closed.
    /// </summary>
    [Fact]
    public async Task DeviceOnTwoNodesDuringRedisOutage_OlderClosed4001OnceRedisIsBack()
    {
        var redis = RedisServer.Start();
        _disposables.Add(redis);
        var (a, b) = (await Node("node-a", redis), await Node("node-b", redis));
        var (older, room) = await Identified(a, "phone");

        redis.Kill();
        var (newer, _) = await Identified(b, "phone", room);
        redis.Restart();

        var (status, reason) = await older.ExpectCloseAsync(Bound);
        Assert.Equal((4001, "replaced"), ((int)status!, reason));
        Assert.Equal("room_info", (await newer.QueryRoomAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task SubscriptionsKilled_DeliveriesBetweenNodesResume()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (alice, room) = await Identified(a, "alice");
        var (bob, _) = await Identified(b, "bob", room.GetProperty("room_id").GetString());

        await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{RedisServer.Shared.Configuration},allowAdmin=true"))
        {
            await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        }

        Assert.StartsWith("probe", await ProbeUntilReceivedAsync(alice, bob));
        await bob.SendObjectAsync(new { type = "message", content = "and back" });
        Assert.Equal("and back", (await ContentsUntil(alice, "and back"))[^1]);
    }

    [Fact]
    public async Task ResendAfterReconnectToAnotherNode_SameAckStoredAndDeliveredOnce()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (alice, room) = await Identified(a, "alice");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (bob, _) = await Identified(b, "bob", roomId);
        await alice.SendObjectAsync(new { type = "message", content = "exactly once", id = "m-1" });
        var ack = await alice.ReceiveTextAsync();
        Assert.Equal(["exactly once"], await Contents(bob, 1));
        await alice.CloseAsync();

        var (again, _) = await Identified(b, "alice", roomId);
        await again.SendObjectAsync(new { type = "message", content = "exactly once", id = "m-1" });

        Assert.Equal(ack, await again.ReceiveTextAsync());
        await again.SendObjectAsync(new { type = "message", content = "next" });
        Assert.Equal(["next"], await Contents(bob, 1));
        await using var db = _database.OpenContext();
        Assert.Equal(1, await db.Messages.CountAsync(m => m.MessageContent == "exactly once"));
    }

    /// <summary>A command added as README's "Adding a command" says (request, handler, validator, one protocol-table row) spans nodes.</summary>
    [Fact]
    public async Task Typing_HeardOnEveryNodeSenderToldEveryNodesCount()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (alice, room) = await Identified(a, "alice");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (bob, _) = await Identified(b, "bob", roomId);
        var (carol, _) = await Identified(b, "carol", roomId);

        await alice.SendObjectAsync(new { type = "typing" });

        var sent = await alice.ReceiveAsync();
        Assert.Equal(("typing_sent", 2), (sent.GetProperty("type").GetString(), sent.GetProperty("recipients").GetInt32()));
        foreach (var other in new[] { bob, carol })
        {
            var typing = await other.ReceiveAsync();
            Assert.Equal(("typing", "alice"), (typing.GetProperty("type").GetString(), typing.GetProperty("device_id").GetString()));
        }
    }

    [Fact]
    public async Task CoalescedPresenceAcrossNodes_EachChangeHeardOnce_OneDiffPerNodeWindow()
    {
        const string window = "--Rooms:PresenceWindow=00:00:01.500";
        var (a, b) = (await Node("node-a", null, window), await Node("node-b", null, window));
        var (alice, room) = await Identified(a, "alice", presence: true);
        var roomId = room.GetProperty("room_id").GetString()!;
        await Task.Delay(3500); // alice's own join opened node-a's window; let it close.

        // node-b: an opener (heard at once), then two joins and a device that comes and goes inside its window.
        await Identified(b, "b0", roomId);
        Assert.Equal(("joined", "b0"), Event(await alice.ReceiveAsync()));
        await Identified(b, "b1", roomId);
        await Identified(b, "b2", roomId);
        var (ghost, _) = await Identified(b, "ghost", roomId);
        await ghost.CloseAsync();

        // node-a, meanwhile: an opener of its own and one more join.
        await Identified(a, "a1", roomId);
        await Identified(a, "a2", roomId);

        var heard = new List<(string Event, string Device)>();
        var frames = new List<JsonElement>();
        while (heard.Count < 4)
        {
            var frame = await alice.ReceiveAsync(TimeSpan.FromSeconds(10));
            frames.Add(frame);
            heard.AddRange(Changes(frame));
        }

        await alice.ExpectSilenceAsync(TimeSpan.FromSeconds(2.5));
        Assert.Equal([("joined", "a1"), ("joined", "a2"), ("joined", "b1"), ("joined", "b2")], heard.Order());
        Assert.Contains(frames, f => f.TryGetProperty("joins", out var joins) && joins.EnumerateObject().Select(j => j.Name).SequenceEqual(["b1", "b2"]));
    }

    [Fact]
    public async Task PresenceAcrossNodes_JoinedAndLeftHeardOnceOnEveryNode()
    {
        var (a, b, c) = (await Node("node-a"), await Node("node-b"), await Node("node-c"));
        var (alice, room) = await Identified(a, "alice", presence: true);
        var roomId = room.GetProperty("room_id").GetString()!;
        var (carol, _) = await Identified(c, "carol", roomId, presence: true);
        Assert.Equal(("joined", "carol"), Event(await alice.ReceiveAsync()));

        var (bob, _) = await Identified(b, "bob", roomId);
        var (bobAgain, _) = await Identified(a, "bob", roomId);
        await bob.ExpectCloseAsync();
        await bobAgain.CloseAsync();

        foreach (var watcher in new[] { alice, carol })
        {
            Assert.Equal(("joined", "bob"), Event(await watcher.ReceiveAsync()));
            Assert.Equal(("left", "bob"), Event(await watcher.ReceiveAsync()));
            Assert.Equal("room_info", (await watcher.QueryRoomAsync()).GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task CatchUp_ReconnectToAnotherNodeMidStream_LivePlusHistoryIsEveryMessageOnceInOrder()
    {
        var (a, b) = (await Node("node-a"), await Node("node-b"));
        var (s1, room) = await Identified(a, "sender-a");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (s2, _) = await Identified(b, "sender-b", roomId);
        var (reader, _) = await Identified(a, "reader", roomId);
        const int perSender = 250;

        var sending = Task.WhenAll(new[] { s1, s2 }.Select((sender, n) => Task.Run(async () =>
        {
            for (var i = 0; i < perSender; i++)
            {
                await sender.SendObjectAsync(new { type = "message", content = $"s{n}-{i}" });
                if (i % 25 == 0)
                {
                    await Task.Delay(20);
                }
            }
        })));

        // Live on node A until a third of the stream went by, then gone mid-stream.
        var live = new List<long>();
        while (live.Count < perSender * 2 / 3)
        {
            live.Add(MessageId(await reader.ReceiveAsync()));
        }

        await reader.CloseAsync();
        await Task.Delay(100);
        var (back, _) = await Identified(b, "reader", roomId);
        var caughtUp = new List<long>();
        var liveAgain = new List<long>();
        var after = live[^1];
        JsonElement page;
        do
        {
            page = await HistoryPage(back, after, liveAgain);
            caughtUp.AddRange(page.GetProperty("messages").EnumerateArray().Select(MessageId));
            after = caughtUp.Count > 0 ? caughtUp[^1] : after;
        }
        while (page.GetProperty("has_more").GetBoolean());

        await sending;
        await using var db = _database.OpenContext();
        var stored = await db.Messages.Where(m => m.RoomId == roomId && m.Id >= live[0]).OrderBy(m => m.Id).Select(m => m.Id).ToListAsync();
        var lastStored = stored[^1];
        while ((caughtUp.Count > 0 ? Math.Max(caughtUp[^1], liveAgain.LastOrDefault()) : liveAgain.LastOrDefault()) < lastStored)
        {
            liveAgain.Add(MessageId(await back.ReceiveAsync()));
        }

        Assert.Equal(live.Order(), live);
        Assert.Equal(liveAgain.Order(), liveAgain);
        Assert.Empty(caughtUp.Intersect(live));
        Assert.Equal(stored, live.Concat(caughtUp).Concat(liveAgain).Distinct().Order());
    }

    /// <summary>Asks for a page; live messages that arrive before the answer go to <paramref name="live"/>.</summary>
    private static async Task<JsonElement> HistoryPage(TestClient client, long after, List<long> live)
    {
        await client.SendObjectAsync(new { type = "history", after_message_id = after.ToString(System.Globalization.CultureInfo.InvariantCulture), limit = 50 });
        while (true)
        {
            var frame = await client.ReceiveAsync();
            if (frame.GetProperty("type").GetString() == "history")
            {
                return frame;
            }

            live.Add(MessageId(frame));
        }
    }

    private static long MessageId(JsonElement message) =>
        long.Parse(message.GetProperty("message_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A presence frame, single-event or coalesced, as (event, device) pairs.</summary>
    private static IEnumerable<(string Event, string Device)> Changes(JsonElement presence)
    {
        Assert.Equal("presence", presence.GetProperty("type").GetString());
        if (presence.TryGetProperty("event", out _))
        {
            return [Event(presence)];
        }

        return presence.GetProperty("joins").EnumerateObject().Select(j => ("joined", j.Name))
            .Concat(presence.GetProperty("leaves").EnumerateObject().Select(l => ("left", l.Name)));
    }

    private static (string, string) Event(JsonElement presence)
    {
        Assert.Equal("presence", presence.GetProperty("type").GetString());
        return (presence.GetProperty("event").GetString()!, presence.GetProperty("device_id").GetString()!);
    }

    /// <summary>
    /// Sends probes from <paramref name="sender"/> until <paramref name="receiver"/> gets a message again
    /// after the nodes could not hear each other; returns the content of the first one it gets.
    /// </summary>
    private static async Task<string> ProbeUntilReceivedAsync(TestClient sender, TestClient receiver)
    {
        using var received = new CancellationTokenSource();
        var probing = Task.Run(async () =>
        {
            for (var i = 0; !received.IsCancellationRequested; i++)
            {
                await sender.SendObjectAsync(new { type = "message", content = $"probe{i}" });
                await Task.Delay(200);
            }
        });
        var first = await receiver.ReceiveAsync(Bound);
        await received.CancelAsync();
        await probing;
        return first.GetProperty("content").GetString()!;
    }

    private async Task<RoomsServer> Node(string nodeId, RedisServer? redis = null, params string[] extra)
    {
        var server = await RoomsServer.StartAsync(_database,
        [
            $"--Cluster:Redis={(redis ?? RedisServer.Shared).Configuration},connectTimeout=2000",
            $"--Cluster:NodeId={nodeId}",
            $"--Cluster:KeyPrefix={_keyPrefix}",
            "--Cluster:PresenceTtl=00:00:03",
            "--Cluster:PresenceRefreshInterval=00:00:00.500",
            "--Cluster:HeartbeatInterval=00:00:00.500",
            "--Cluster:NodeTimeout=00:00:03",
            .. RoomsServer.Unthrottled,
            .. extra,
        ]);
        _servers.Add(server);
        return server;
    }

    private Dictionary<string, string> ProcessEnvironment(string nodeId, int port) => new()
    {
        ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
        ["Database__Provider"] = "MySql",
        ["ConnectionStrings__Rooms"] = _database.ConnectionString,
        ["Database__MySqlServerVersion"] = _database.Settings.MySqlServerVersion,
        ["Cluster__Redis"] = RedisServer.Shared.Configuration,
        ["Cluster__NodeId"] = nodeId,
        ["Cluster__KeyPrefix"] = _keyPrefix,
        ["Cluster__PresenceTtl"] = "00:00:03",
        ["Cluster__PresenceRefreshInterval"] = "00:00:00.500",
        ["Cluster__HeartbeatInterval"] = "00:00:00.500",
        ["Cluster__NodeTimeout"] = "00:00:03",
    };

    private async Task<(TestClient Client, JsonElement Room)> Identified(RoomsServer server, string deviceId, JsonElement room) =>
        await Identified(server, deviceId, room.GetProperty("room_id").GetString());

    private async Task<(TestClient Client, JsonElement Room)> Identified(RoomsServer server, string deviceId, string? roomId = null, bool presence = false)
    {
        var (client, room) = await TestClient.IdentifiedAsync(server, deviceId, roomId);
        client.IgnoresPresence = !presence;
        _clients.Add(client);
        return (client, room);
    }

    private static async Task<List<string>> Contents(TestClient client, int count)
    {
        var contents = new List<string>();
        while (contents.Count < count)
        {
            var frame = await client.ReceiveAsync();
            Assert.Equal("message", frame.GetProperty("type").GetString());
            contents.Add(frame.GetProperty("content").GetString()!);
        }

        return contents;
    }

    /// <summary>Messages received up to and including <paramref name="last"/>.</summary>
    private static async Task<List<string>> ContentsUntil(TestClient client, string last)
    {
        var contents = new List<string>();
        while (contents.Count == 0 || contents[^1] != last)
        {
            contents.Add((await client.ReceiveAsync(Bound)).GetProperty("content").GetString()!);
        }

        return contents;
    }

    private static Task WaitUntil(Func<Task<bool>> condition) => Eventually.TrueAsync(condition, Bound, pollMilliseconds: 200);
}

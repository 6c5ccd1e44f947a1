using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// docs/protocol.md sections 1-4 and 7, message by message, against the real server and a real
/// database; every case then reads the rows back. Runs once per provider (subclasses below).
/// </summary>
public abstract class ProtocolTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(provider);
    private readonly List<TestClient> _clients = [];
    private RoomsServer _server = null!;

    /// <summary>The default frame limit (Rooms:MaxMessageBytes): 6 x the longest content + 4 KiB.</summary>
    private const int FrameLimit = 102_400;

    /// <summary>The longest valid content, every character \u-escaped (what Python's json.dumps sends), is a message, not a 1009.</summary>
    [Fact]
    public async Task LongestContentEscapedAsNonAscii_IsStoredNotClosed()
    {
        var (alice, _) = await Identified("alice");
        var escaped = string.Concat(Enumerable.Repeat("\\u20ac", 16_384));

        await alice.SendAsync($$"""{"type":"message","content":"{{escaped}}"}""");
        await alice.SendAsync("""{"type":"query_room"}""");

        Assert.Equal("room_info", (await alice.ReceiveAsync()).GetProperty("type").GetString());
        await WaitUntil(() => Rows(db => db.Messages.AnyAsync(m => m.MessageContent == new string('€', 16_384))));
    }

    protected virtual string[] ServerArgs => ["--Rooms:IdentifyTimeout=00:00:02", .. RoomsServer.Unthrottled];

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database, ServerArgs);

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _server.DisposeAsync();
        _database.Dispose();
    }

    private async Task<TestClient> Connect(string path = "/")
    {
        var client = await TestClient.ConnectAsync(_server, path);
        client.IgnoresPresence = true;
        _clients.Add(client);
        return client;
    }

    private async Task<(TestClient Client, string RoomId)> Identified(string deviceId, string? roomId = null)
    {
        var (client, room) = await TestClient.IdentifiedAsync(_server, deviceId, roomId);
        client.IgnoresPresence = true;
        _clients.Add(client);
        return (client, room.GetProperty("room_id").GetString()!);
    }

    private async Task<T> Rows<T>(Func<RoomsDbContext, Task<T>> query)
    {
        await using var db = _database.OpenContext();
        return await query(db);
    }

    [Fact]
    public async Task Connect_OnAccept_SendsConnectionFrameExactly()
    {
        var client = await Connect();

        Assert.Equal("""{"type":"connection","message":"Connected successfully"}""", await client.ReceiveTextAsync());
    }

    [Fact]
    public async Task Connect_OnWsPath_IsAcceptedToo()
    {
        var client = await Connect("/ws");

        Assert.Equal("connection", (await client.ReceiveAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Identify_NoRoomId_CreatesRoomAndStoresRoomDeviceAndConnection()
    {
        var client = await Connect();
        await client.ReceiveAsync();
        await client.SendAsync("""{"device_id":"device_123","identity":"mobile_user"}""");

        var text = await client.ReceiveTextAsync();

        using var json = JsonDocument.Parse(text);
        var roomId = json.RootElement.GetProperty("room_id").GetString()!;
        Assert.Matches("^[A-Z0-9]{6}$", roomId);
        Assert.Equal($$"""{"type":"room","room_id":"{{roomId}}","status":"created_new"}""", text);
        Assert.True(await Rows(db => db.Rooms.AnyAsync(r => r.RoomId == roomId)));
        var device = await Rows(db => db.Devices.SingleAsync(d => d.DeviceId == "device_123"));
        Assert.Equal(("mobile_user", roomId), (device.Identity, device.LastRoomId));
        var connection = await Rows(db => db.Connections.SingleAsync(c => c.DeviceId == "device_123"));
        Assert.Equal((roomId, "127.0.0.1"), (connection.RoomId, connection.ClientIp));
        Assert.Null(connection.DisconnectedAt);
    }

    [Fact]
    public async Task Identify_BehindLoopbackProxy_StoresForwardedClientIp()
    {
        var client = await TestClient.ConnectAsync(_server.WebSocketUri(), forwardedFor: "203.0.113.7");
        client.IgnoresPresence = true;
        _clients.Add(client);
        await client.ReceiveAsync();

        await client.IdentifyAsync("proxied");

        Assert.Equal("203.0.113.7", await Rows(db => db.Connections.Select(c => c.ClientIp).SingleAsync()));
    }

    [Fact]
    public async Task Identify_ExistingRoomId_JoinsExisting()
    {
        var (_, roomId) = await Identified("alice");
        var bob = await Connect();
        await bob.ReceiveAsync();

        var room = await bob.IdentifyAsync("bob", roomId);

        Assert.Equal("joined_existing", room.GetProperty("status").GetString());
        Assert.Equal(roomId, room.GetProperty("room_id").GetString());
        Assert.Equal(2, await Rows(db => db.Connections.CountAsync(c => c.RoomId == roomId)));
    }

    [Fact]
    public async Task Identify_UnknownRoomId_RoomNotFoundThenMayIdentifyAgain()
    {
        var client = await Connect();
        await client.ReceiveAsync();

        var notFound = await client.IdentifyAsync("d1", "NOSUCH");

        Assert.Equal("""{"type":"room","room_id":"NOSUCH","status":"room_not_found"}""", JsonSerializer.Serialize(notFound));
        Assert.Equal(0, await Rows(db => db.Connections.CountAsync()));
        await client.SendAsync("""{"type":"query_room"}""");
        await client.ExpectErrorAsync("Identify first");

        var created = await client.IdentifyAsync("d1");
        Assert.Equal("created_new", created.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Identify_RoomIdsAreCaseSensitive()
    {
        var (_, roomId) = await Identified("alice");
        var client = await Connect();
        await client.ReceiveAsync();

        var room = await client.IdentifyAsync("bob", roomId.ToLowerInvariant());

        Assert.Equal("room_not_found", room.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Identify_KnownDeviceAfterDisconnect_ReconnectsToLastRoom()
    {
        var (first, roomId) = await Identified("roamer");
        await first.CloseAsync();
        await WaitUntil(() => Rows(db => db.Connections.AllAsync(c => c.DisconnectedAt != null)));

        var (_, again) = await Identified("roamer");
        var status = await Rows(db => db.Devices.Where(d => d.DeviceId == "roamer").Select(d => d.LastRoomId).SingleAsync());

        Assert.Equal(roomId, again);
        Assert.Equal(roomId, status);
    }

    [Fact]
    public async Task Identify_KnownDeviceAfterServerRestart_Reconnected()
    {
        var (first, roomId) = await Identified("survivor");
        await first.CloseAsync();
        await _server.DisposeAsync();
        _server = await RoomsServer.StartAsync(_database, ServerArgs);

        var (client, room) = await TestClient.IdentifiedAsync(_server, "survivor");
        client.IgnoresPresence = true;
        _clients.Add(client);

        Assert.Equal("reconnected", room.GetProperty("status").GetString());
        Assert.Equal(roomId, room.GetProperty("room_id").GetString());
    }

    [Fact]
    public async Task Identify_Twice_SecondGetsErrorFirstStands()
    {
        var (client, roomId) = await Identified("alice");

        await client.SendAsync("""{"device_id":"alice","identity":"again"}""");
        await client.ExpectErrorAsync("Already identified");

        Assert.Equal(roomId, (await client.QueryRoomAsync()).GetProperty("room_id").GetString());
        Assert.Equal(1, await Rows(db => db.Connections.CountAsync()));
    }

    [Theory]
    [InlineData("""{"identity":"x"}""", "'device_id' is required")]
    [InlineData("""{"device_id":"has space","identity":"x"}""", "'device_id' may contain only")]
    [InlineData("""{"device_id":"d1"}""", "'identity' is required")]
    [InlineData("""{"device_id":"d1","identity":"a\u0007b"}""", "'identity' must not contain control characters")]
    [InlineData("""{"device_id":"d1","identity":"admin\u202Egnp.exe"}""", "'identity' must not contain control characters or invisible formatting")]
    [InlineData("""{"device_id":"d1","identity":"x","room_id":"bad room"}""", "'room_id' must be")]
    [InlineData("""{"device_id":42,"identity":"x"}""", "'device_id' must be a string")]
    [InlineData("""{"type":"identify","identity":"x"}""", "'device_id' is required")]
    public async Task Identify_Invalid_ErrorNamesFieldAndNothingStored(string frame, string expected)
    {
        var client = await Connect();
        await client.ReceiveAsync();

        await client.SendAsync(frame);

        await client.ExpectErrorAsync(expected);
        Assert.Equal("created_new", (await client.IdentifyAsync("d1")).GetProperty("status").GetString());
        Assert.Equal(1, await Rows(db => db.Devices.CountAsync()));
    }

    [Fact]
    public async Task Identify_TypeIdentify_IsAccepted()
    {
        var client = await Connect();
        await client.ReceiveAsync();

        await client.SendAsync("""{"type":"identify","device_id":"d1","identity":"x"}""");

        Assert.Equal("created_new", (await client.ReceiveAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Broadcast_ReachesEveryOtherMemberNotSenderAndIsStored()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        var (carol, _) = await Identified("carol", roomId);
        var (outsider, _) = await Identified("outsider");

        await alice.SendAsync("""{"type":"message","content":"Hello everyone in the room!","timestamp":"2024-01-20T12:34:56Z"}""");

        var (toBob, toCarol) = (await bob.ReceiveTextAsync(), await carol.ReceiveTextAsync());

        // The seed's fields, in the seed's order; then the extension's message_id, the stored row's id.
        var id = await Rows(db => db.Messages.Select(m => m.Id).SingleAsync());
        var expected = $$"""{"type":"message","content":"Hello everyone in the room!","from_device_id":"alice","message_type":"broadcast","timestamp":"2024-01-20T12:34:56Z","message_id":"{{id}}"}""";
        Assert.Equal(expected, toBob);
        Assert.Equal(expected, toCarol);
        // Not echoed: the sender's next frame is the answer to its next request.
        Assert.Equal("room_info", (await alice.QueryRoomAsync()).GetProperty("type").GetString());
        Assert.Equal(0, (await outsider.QueryRoomAsync()).GetProperty("clients").GetArrayLength());
        var row = await Rows(db => db.Messages.SingleAsync());
        Assert.Equal((roomId, "alice", (string?)null, "broadcast", "Hello everyone in the room!"),
            (row.RoomId, row.FromDeviceId, row.ToDeviceId, row.MessageType, row.MessageContent));
    }

    [Fact]
    public async Task Broadcast_WithoutTimestamp_ServerStampsIsoUtc()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        var before = DateTime.UtcNow.AddSeconds(-1);

        await alice.SendAsync("""{"type":"message","content":"no clock here"}""");

        var timestamp = (await bob.ReceiveAsync()).GetProperty("timestamp").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", timestamp);
        var stamped = DateTime.Parse(timestamp, null, System.Globalization.DateTimeStyles.AdjustToUniversal);
        Assert.InRange(stamped, before, DateTime.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task Broadcast_NonAsciiContent_ArrivesUnchanged()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        const string content = "你好, wörld \"quoted\" \\ 🎉";

        await alice.SendObjectAsync(new { type = "message", content });

        Assert.Equal(content, (await bob.ReceiveAsync()).GetProperty("content").GetString());
        Assert.Equal(content, await Rows(db => db.Messages.Select(m => m.MessageContent).SingleAsync()));
    }

    [Fact]
    public async Task Direct_ReachesOnlyTargetAndIsStoredWithTarget()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        var (carol, _) = await Identified("carol", roomId);

        await alice.SendAsync("""{"type":"message","content":"Private message for you","target_device_id":"bob"}""");

        var delivered = await bob.ReceiveAsync();
        Assert.Equal("direct", delivered.GetProperty("message_type").GetString());
        Assert.Equal("alice", delivered.GetProperty("from_device_id").GetString());
        Assert.Equal("room_info", (await carol.QueryRoomAsync()).GetProperty("type").GetString());
        var row = await Rows(db => db.Messages.SingleAsync());
        Assert.Equal(("bob", "direct"), (row.ToDeviceId, row.MessageType));
    }

    [Fact]
    public async Task Direct_TargetInAnotherRoomOrUnknown_ErrorNothingDeliveredNothingStored()
    {
        var (alice, _) = await Identified("alice");
        var (elsewhere, _) = await Identified("device_456");

        await alice.SendAsync("""{"type":"message","content":"psst","target_device_id":"device_456"}""");
        await alice.ExpectErrorAsync("Target device not found: device_456");
        await alice.SendAsync("""{"type":"message","content":"psst","target_device_id":"ghost"}""");
        await alice.ExpectErrorAsync("Target device not found: ghost");

        Assert.Equal("room_info", (await elsewhere.QueryRoomAsync()).GetProperty("type").GetString());
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task QueryRoom_CountsEveryoneListsOthersAndIsStored()
    {
        var (alice, roomId) = await Identified("device_123");
        await Identified("device_456", roomId);
        await Identified("device_789", roomId);

        var info = await alice.QueryRoomAsync();

        Assert.Equal(roomId, info.GetProperty("room_id").GetString());
        Assert.Equal(3, info.GetProperty("total_clients").GetInt32());
        var clients = info.GetProperty("clients").EnumerateArray()
            .Select(c => (c.GetProperty("device_id").GetString(), c.GetProperty("identity").GetString()))
            .OrderBy(c => c.Item1)
            .ToList();
        Assert.Equal([("device_456", "device_456_user"), ("device_789", "device_789_user")], clients);
        var query = await Rows(db => db.RoomQueries.SingleAsync());
        Assert.Equal(("device_123", roomId), (query.DeviceId, query.RoomId));
    }

    [Theory]
    [InlineData("this is not json", "Invalid JSON format")]
    [InlineData("{\"type\":\"message\",", "Invalid JSON format")]
    [InlineData("{} trailing", "Invalid JSON format")]
    [InlineData("[1,2,3]", "Invalid message: expected a JSON object")]
    [InlineData("\"just a string\"", "Invalid message: expected a JSON object")]
    [InlineData("""{"type":"dance"}""", "Unknown message type: dance (expected \"message\", \"query_room\", \"history\" or \"typing\")")]
    [InlineData("""{"content":"no type"}""", "Missing 'type'")]
    [InlineData("""{"type":7}""", "'type' must be a string")]
    [InlineData("""{"type":"message"}""", "'content' is required")]
    [InlineData("""{"type":"message","content":""}""", "'content' is required")]
    [InlineData("""{"type":"message","content":{"nested":true}}""", "'content' must be a string")]
    [InlineData("""{"type":"message","content":"x","timestamp":"yesterday"}""", "'timestamp' must be an ISO-8601")]
    [InlineData("""{"type":"message","content":"x","target_device_id":"bad target"}""", "'target_device_id' must be")]
    public async Task BadFrameAfterIdentify_ErrorConnectionStaysOpenNothingStored(string frame, string expected)
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);

        await alice.SendAsync(frame);

        await alice.ExpectErrorAsync(expected);
        Assert.Equal(2, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
        Assert.Equal("room_info", (await bob.QueryRoomAsync()).GetProperty("type").GetString());
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Content_OverMaxContentLength_ErrorNamesContent()
    {
        var (alice, _) = await Identified("alice");

        await alice.SendObjectAsync(new { type = "message", content = new string('x', 16_385) });

        await alice.ExpectErrorAsync("'content' must be at most 16384 characters");
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Content_AtMaxContentLengthMultibyte_StoredWhole()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        var content = string.Concat(Enumerable.Repeat("中", 16_384));

        // Raw UTF-8 (49 152 bytes of content): JsonSerializer would \u-escape it past the 64 KiB frame cap.
        await alice.SendAsync($$"""{"type":"message","content":"{{content}}"}""");

        Assert.Equal(content, (await bob.ReceiveAsync()).GetProperty("content").GetString());
        Assert.Equal(content, await Rows(db => db.Messages.Select(m => m.MessageContent).SingleAsync()));
    }

    [Fact]
    public async Task Content_Emoji_ForwardedAsUtf8NotEscaped()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        var emoji = string.Concat(Enumerable.Repeat("😀", 8_000));
        var content = emoji + "\"\\\n";

        // Raw UTF-8 in, as a browser sends it (JsonSerializer would \u-escape it past the frame cap).
        await alice.SendAsync($$"""{"type":"message","content":"{{emoji}}\"\\\n"}""");

        var frame = await bob.ReceiveTextAsync();
        Assert.Contains("😀😀", frame, StringComparison.Ordinal);
        Assert.Contains("\\\"\\\\\\n", frame, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(frame), 32_000, 32_000 + 200);
        using var parsed = JsonDocument.Parse(frame);
        Assert.Equal(content, parsed.RootElement.GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("""{"type":"message","content":"too early"}""")]
    [InlineData("""{"type":"query_room"}""")]
    [InlineData("""{"type":"dance"}""")]
    public async Task BeforeIdentify_AnyOtherMessage_IdentifyFirst(string frame)
    {
        var client = await Connect();
        await client.ReceiveAsync();

        await client.SendAsync(frame);

        await client.ExpectErrorAsync("Identify first");
        Assert.Equal("created_new", (await client.IdentifyAsync("late")).GetProperty("status").GetString());
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task BinaryFrame_ErrorConnectionStaysOpen()
    {
        var (alice, _) = await Identified("alice");

        await alice.SendAsync(Encoding.UTF8.GetBytes("""{"type":"query_room"}"""), WebSocketMessageType.Binary);

        await alice.ExpectErrorAsync("Binary frames are not supported");
        Assert.Equal(1, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Fact]
    public async Task MessageOverTheFrameLimit_ClosesWith1009()
    {
        var (alice, _) = await Identified("alice");

        await alice.SendAsync(Encoding.UTF8.GetBytes(new string(' ', FrameLimit + 1)), WebSocketMessageType.Text);

        var (status, _) = await alice.ExpectCloseAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        await WaitUntil(() => Rows(db => db.Connections.AllAsync(c => c.DisconnectedAt != null)));
    }

    [Fact]
    public async Task MessageAtTheFrameLimit_IsAccepted()
    {
        var (alice, _) = await Identified("alice");
        var padding = new string(' ', FrameLimit - """{"type":"query_room"}""".Length);

        await alice.SendAsync("""{"type":"query_room"}""" + padding);

        Assert.Equal("room_info", (await alice.ReceiveAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task NoIdentifyInTime_ClosesWith1008()
    {
        var client = await Connect();
        await client.ReceiveAsync();

        var (status, _) = await client.ExpectCloseAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
    }

    [Fact]
    public async Task IdentifiedBeforeDeadline_StaysOpenPastIt()
    {
        var (alice, _) = await Identified("alice");

        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal(1, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Fact]
    public async Task SameDeviceTwice_OlderClosedWith4001NewerReceives()
    {
        var (older, roomId) = await Identified("phone");
        var (friend, _) = await Identified("friend", roomId);

        var (newer, _) = await Identified("phone", roomId);

        var (status, reason) = await older.ExpectCloseAsync();
        Assert.Equal(4001, (int?)status);
        Assert.Equal("replaced", reason);
        await friend.SendAsync("""{"type":"message","content":"to the new one","target_device_id":"phone"}""");
        Assert.Equal("to the new one", (await newer.ReceiveAsync()).GetProperty("content").GetString());
        Assert.Equal(2, (await friend.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
        await WaitUntil(() => Rows(db => db.Connections.CountAsync(c => c.DeviceId == "phone" && c.DisconnectedAt == null).ContinueWith(t => t.Result == 1)));
    }

    [Fact]
    public async Task PerSender_ManyMessages_DeliveredAndStoredInSendOrder()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        const int count = 300;

        for (var i = 0; i < count; i++)
        {
            await alice.SendAsync($$"""{"type":"message","content":"{{i}}"}""");
        }

        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (await bob.ReceiveAsync()).GetProperty("content").GetString());
        }

        var stored = await Rows(db => db.Messages.OrderBy(m => m.Id).Select(m => m.MessageContent).ToListAsync());
        Assert.Equal(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), stored);
    }

    [Fact]
    public async Task ConcurrentSenders_EveryMessageDeliveredAndStored()
    {
        var (listener, roomId) = await Identified("listener");
        var senders = new List<TestClient>();
        for (var s = 0; s < 5; s++)
        {
            senders.Add((await Identified($"sender{s}", roomId)).Client);
        }

        await Task.WhenAll(senders.Select((sender, s) => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await sender.SendAsync($$"""{"type":"message","content":"{{s}}:{{i}}"}""");
            }
        })));

        var received = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            received.Add((await listener.ReceiveAsync()).GetProperty("content").GetString()!);
        }

        for (var s = 0; s < 5; s++)
        {
            var fromSender = received.Where(c => c.StartsWith($"{s}:", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, 40).Select(i => $"{s}:{i}"), fromSender);
        }

        Assert.Equal(200, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Disconnect_SetsDisconnectedAt()
    {
        var (alice, _) = await Identified("alice");

        await alice.CloseAsync();

        await WaitUntil(() => Rows(db => db.Connections.AllAsync(c => c.DisconnectedAt != null)));
        var row = await Rows(db => db.Connections.SingleAsync());
        Assert.True(row.DisconnectedAt >= row.ConnectedAt);
    }

    [Fact]
    public async Task Disconnect_LeavesRoomForOthers()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);

        await bob.CloseAsync();

        await WaitUntil(async () => (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32() == 1);
    }

    [Fact]
    public async Task Startup_ClosesConnectionRowsLeftOpenByCrash()
    {
        await _server.DisposeAsync();
        await using (var db = _database.OpenContext())
        {
            db.Rooms.Add(new RoomRow { RoomId = "CRASH1", CreatedAt = DateTime.UtcNow });
            db.Devices.Add(new DeviceRow { DeviceId = "ghost", Identity = "g", LastConnectedAt = DateTime.UtcNow, LastRoomId = "CRASH1" });
            db.Connections.Add(new ConnectionRow { DeviceId = "ghost", RoomId = "CRASH1", ClientIp = "10.0.0.9", ConnectedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }

        _server = await RoomsServer.StartAsync(_database, ServerArgs);

        Assert.NotNull(await Rows(db => db.Connections.Select(c => c.DisconnectedAt).SingleAsync()));
    }

    [Fact]
    public async Task Shutdown_ClosesClientsWith1001AndRecordsDisconnect()
    {
        var (alice, _) = await Identified("alice");

        var stopping = _server.DisposeAsync().AsTask();
        var (status, _) = await alice.ExpectCloseAsync();
        await stopping;
        _server = await RoomsServer.StartAsync(_database, ServerArgs);

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
        Assert.NotNull(await Rows(db => db.Connections.Select(c => c.DisconnectedAt).SingleAsync()));
    }

    [Fact]
    public async Task StorageFailure_SenderGetsErrorNothingForwardedConnectionStays()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        await using (var db = _database.OpenContext())
        {
            // Message ids are reserved from this table: without it no message can be stored.
            await db.Database.ExecuteSqlRawAsync("DROP TABLE message_sequence");
        }

        await alice.SendAsync("""{"type":"message","content":"lost?"}""");

        await alice.ExpectErrorAsync("Message not delivered");
        Assert.Equal("room_info", (await bob.QueryRoomAsync()).GetProperty("type").GetString());
        Assert.Equal(2, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Fact]
    public async Task PlainHttp_GetsUpgradeHintAndHealthProbe()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        var root = await http.GetAsync(new Uri("/", UriKind.Relative));
        var health = await http.GetStringAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.UpgradeRequired, root.StatusCode);
        Assert.Equal("ok", health);
    }

    private static Task WaitUntil(Func<Task<bool>> condition) => Eventually.TrueAsync(condition, TimeSpan.FromSeconds(10));
}

public sealed class SqliteProtocolTests() : ProtocolTests(DatabaseProvider.Sqlite);

public sealed class MySqlProtocolTests() : ProtocolTests(DatabaseProvider.MySql);

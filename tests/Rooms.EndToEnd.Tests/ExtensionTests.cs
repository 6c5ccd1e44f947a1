using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The extensions of docs/protocol.md (message_id, ack and exactly-once sends, presence events, history)
/// against the real server and a real database, once per provider.
/// </summary>
public abstract class ExtensionTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(provider);
    private readonly List<TestClient> _clients = [];
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database);

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task Message_CarriesStoredRowIdAsString()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);

        await alice.SendObjectAsync(new { type = "message", content = "hi" });

        var delivered = await bob.ReceiveAsync();
        var id = await Rows(db => db.Messages.Select(m => m.Id).SingleAsync());
        Assert.Equal(JsonValueKind.String, delivered.GetProperty("message_id").ValueKind);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), delivered.GetProperty("message_id").GetString());
    }

    [Fact]
    public async Task Ack_BroadcastWithId_AfterStoredAndHandedCountsRecipients()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);
        var (carol, _) = await Identified("carol", roomId, ignorePresence: true);

        await alice.SendObjectAsync(new { type = "message", content = "hi", id = "c-17" });

        var ack = await alice.ReceiveAsync();
        var messageId = (await bob.ReceiveAsync()).GetProperty("message_id").GetString();
        Assert.Equal($$"""{"type":"ack","id":"c-17","message_id":"{{messageId}}","recipients":2}""", JsonSerializer.Serialize(ack));
        Assert.Equal(messageId, (await carol.ReceiveAsync()).GetProperty("message_id").GetString());
    }

    [Fact]
    public async Task Typing_OthersHearItSenderToldHowManyNothingStored()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);
        var (carol, _) = await Identified("carol", roomId, ignorePresence: true);

        await alice.SendObjectAsync(new { type = "typing" });

        Assert.Equal($$"""{"type":"typing_sent","room_id":"{{roomId}}","recipients":2}""", await alice.ReceiveTextAsync());
        foreach (var other in new[] { bob, carol })
        {
            Assert.Equal($$"""{"type":"typing","room_id":"{{roomId}}","device_id":"alice","identity":"alice_user"}""", await other.ReceiveTextAsync());
        }

        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task Ack_DirectWithId_OneRecipient()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        await Identified("bob", roomId, ignorePresence: true);

        await alice.SendObjectAsync(new { type = "message", content = "psst", target_device_id = "bob", id = "d-1" });

        var ack = await alice.ReceiveAsync();
        Assert.Equal(("ack", 1), (ack.GetProperty("type").GetString(), ack.GetProperty("recipients").GetInt32()));
    }

    [Fact]
    public async Task Resend_SameIdAfterReconnect_SameAckStoredAndDeliveredOnce()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);
        await alice.SendObjectAsync(new { type = "message", content = "once", id = "c-7" });
        var firstAck = await alice.ReceiveTextAsync();
        Assert.Equal("once", (await bob.ReceiveAsync()).GetProperty("content").GetString());
        await alice.CloseAsync();

        var (again, _) = await Identified("alice", roomId, ignorePresence: true);
        await again.SendObjectAsync(new { type = "message", content = "once", id = "c-7" });

        Assert.Equal(firstAck, await again.ReceiveTextAsync());
        await again.SendObjectAsync(new { type = "message", content = "marker" });
        Assert.Equal("marker", (await bob.ReceiveAsync()).GetProperty("content").GetString());
        Assert.Equal(1, await Rows(db => db.Messages.CountAsync(m => m.MessageContent == "once")));
    }

    /// <summary>The probe's attack: ids that MariaDB's PAD SPACE collations call equal ('p', 'p ') sent beside honest senders.</summary>
    [Fact]
    public async Task IdsDifferingByTrailingSpaces_AreTwoMessages_HonestSendersInTheSameBatchesAllAcked()
    {
        var (attacker, roomId) = await Identified("padder", ignorePresence: true);
        var honest = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            honest.Add((await Identified($"honest-{i}", roomId, ignorePresence: true)).Client);
        }

        await attacker.SendObjectAsync(new { type = "message", content = "seed", id = "p" });
        Assert.Equal("ack", (await NextOfType(attacker, "ack", "error")).GetProperty("type").GetString());
        for (var n = 0; n < 20; n++)
        {
            var padding = new string(' ', n + 1);
            await attacker.SendObjectAsync(new { type = "message", content = $"poison{n}", id = "p" + padding });
            foreach (var (client, i) in honest.Select((c, i) => (c, i)))
            {
                await client.SendObjectAsync(new { type = "message", content = $"h{i}-{n}", id = $"h{i}-{n}" });
            }
        }

        foreach (var client in honest.Append(attacker))
        {
            for (var n = 0; n < 20; n++)
            {
                Assert.Equal("ack", (await NextOfType(client, "ack", "error")).GetProperty("type").GetString());
            }
        }

        Assert.Equal(1 + (20 * 4), await Rows(db => db.Messages.CountAsync(m => m.RoomId == roomId)));
        Assert.Equal(21, await Rows(db => db.ClientMessageIds.CountAsync(c => c.DeviceId == "padder")));
    }

    [Fact]
    public async Task IdReusedForAnotherMessage_ErrorNamingTheId_NothingStored()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        await alice.SendObjectAsync(new { type = "message", content = "first", id = "same" });
        await ReceiveAck(alice);

        await alice.SendObjectAsync(new { type = "message", content = "second", id = "same" });

        var error = await alice.ReceiveAsync();
        Assert.Equal(("error", "same"), (error.GetProperty("type").GetString(), error.GetProperty("id").GetString()));
        Assert.StartsWith("'id' \"same\" was already used for a different message", error.GetProperty("message").GetString());
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync(m => m.MessageContent == "second")));
    }

    /// <summary>The next frame of one of <paramref name="types"/>, skipping the room's messages.</summary>
    private static async Task<System.Text.Json.JsonElement> NextOfType(TestClient client, params string[] types)
    {
        while (true)
        {
            var frame = await client.ReceiveAsync();
            if (types.Contains(frame.GetProperty("type").GetString()))
            {
                return frame;
            }
        }
    }

    [Fact]
    public async Task SameIdFromAnotherDevice_IsANewMessage()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);

        await alice.SendObjectAsync(new { type = "message", content = "from alice", id = "x" });
        await bob.SendObjectAsync(new { type = "message", content = "from bob", id = "x" });

        await ReceiveAck(alice);
        await ReceiveAck(bob);
        Assert.Equal(2, await Rows(db => db.Messages.CountAsync()));
    }

    [Theory]
    [InlineData("""{"type":"message","content":"x","id":""}""", "'id' must be 1-64 characters")]
    [InlineData("""{"type":"message","content":"x","id":"a\u0001"}""", "'id' must be 1-64 characters")]
    [InlineData("""{"type":"message","content":"x","id":"a\u200Bb"}""", "'id' must be 1-64 characters without control or invisible formatting")]
    [InlineData("""{"type":"message","content":"x","id":7}""", "'id' must be a string")]
    [InlineData("""{"type":"history","limit":0}""", "'limit' must be a whole number from 1 to 500")]
    [InlineData("""{"type":"history","limit":501}""", "'limit' must be a whole number from 1 to 500")]
    [InlineData("""{"type":"history","limit":"10"}""", "'limit' must be a whole number")]
    [InlineData("""{"type":"history","limit":2.5}""", "'limit' must be a whole number")]
    [InlineData("""{"type":"history","after_message_id":"abc"}""", "'after_message_id' must be a message id")]
    [InlineData("""{"type":"history","after_message_id":12}""", "'after_message_id' must be a string")]
    public async Task BadExtensionFields_ErrorNamesFieldNothingStored(string frame, string expected)
    {
        var (alice, _) = await Identified("alice", ignorePresence: true);

        await alice.SendAsync(frame);

        await alice.ExpectErrorAsync(expected);
        Assert.Equal(0, await Rows(db => db.Messages.CountAsync()));
    }

    [Fact]
    public async Task IdOf64Characters_IsAccepted()
    {
        var (alice, _) = await Identified("alice", ignorePresence: true);
        var id = new string('é', 64);

        await alice.SendObjectAsync(new { type = "message", content = "x", id });

        Assert.Equal(id, (await alice.ReceiveAsync()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Presence_JoinAndLeave_OthersHearOnceReplacementInSameRoomSilent()
    {
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);

        var joined = await alice.ReceiveAsync();
        Assert.Equal("""{"type":"presence","event":"joined","room_id":"ROOM","device_id":"bob","identity":"bob_user"}""".Replace("ROOM", roomId, StringComparison.Ordinal), JsonSerializer.Serialize(joined));

        // bob reconnects into the same room: the older connection is replaced, nobody left.
        var (bobAgain, _) = await Identified("bob", roomId, ignorePresence: true);
        await bob.ExpectCloseAsync();
        await bobAgain.SendObjectAsync(new { type = "message", content = "still me" });
        Assert.Equal("message", (await alice.ReceiveAsync()).GetProperty("type").GetString());

        await bobAgain.CloseAsync();
        var left = await alice.ReceiveAsync();
        Assert.Equal(("presence", "left", "bob"), (left.GetProperty("type").GetString(), left.GetProperty("event").GetString(), left.GetProperty("device_id").GetString()));
        Assert.Equal("room_info", (await alice.QueryRoomAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Presence_SwitchedOff_NoEvents()
    {
        await _server.DisposeAsync();
        _server = await RoomsServer.StartAsync(_database, "--Rooms:PresenceEvents=false");
        var (alice, roomId) = await Identified("alice");
        var (bob, _) = await Identified("bob", roomId);
        await bob.CloseAsync();

        Assert.Equal("room_info", (await alice.QueryRoomAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task History_VisibleMessagesOldestFirstInDeliveredFormatPagedByKey()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);
        var (carol, _) = await Identified("carol", roomId, ignorePresence: true);
        var (outsider, _) = await Identified("outsider", ignorePresence: true);
        await outsider.SendObjectAsync(new { type = "message", content = "elsewhere" });
        foreach (var (client, message) in new (TestClient, object)[]
        {
            (alice, new { type = "message", content = "b1", id = "1" }),
            (alice, new { type = "message", content = "to carol", target_device_id = "carol", id = "2" }),
            (carol, new { type = "message", content = "to bob", target_device_id = "bob", id = "3" }),
            (bob, new { type = "message", content = "bob to alice", target_device_id = "alice", id = "4" }),
            (alice, new { type = "message", content = "b2", id = "5" }),
        })
        {
            await client.SendObjectAsync(message);
            await ReceiveAck(client);
        }

        Assert.Equal("b2", (await bob.ReceiveAsync()).GetProperty("content").GetString());

        var all = await bob.HistoryAsync(null, null);
        var firstPage = await bob.HistoryAsync(null, 2);
        var secondPage = await bob.HistoryAsync(firstPage.GetProperty("messages")[1].GetProperty("message_id").GetString(), 2);

        Assert.Equal(["b1", "to bob", "bob to alice", "b2"], Contents(all));
        Assert.False(all.GetProperty("has_more").GetBoolean());
        Assert.Equal(roomId, all.GetProperty("room_id").GetString());
        Assert.Equal(["b1", "to bob"], Contents(firstPage));
        Assert.True(firstPage.GetProperty("has_more").GetBoolean());
        Assert.Equal(["bob to alice", "b2"], Contents(secondPage));
        var stored = await Rows(db => db.Messages.SingleAsync(m => m.MessageContent == "to bob"));
        var toBob = all.GetProperty("messages")[1];
        Assert.Equal(
            ["type", "content", "from_device_id", "message_type", "timestamp", "message_id"],
            toBob.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("carol", "direct", stored.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (toBob.GetProperty("from_device_id").GetString(), toBob.GetProperty("message_type").GetString(), toBob.GetProperty("message_id").GetString()));
    }

    [Fact]
    public async Task History_LatestAndBeforeCursor_NewestPagesBackwardOldestFirstWithinAPage_SameVisibility()
    {
        var (alice, roomId) = await Identified("alice", ignorePresence: true);
        var (bob, _) = await Identified("bob", roomId, ignorePresence: true);
        var (carol, _) = await Identified("carol", roomId, ignorePresence: true);
        foreach (var (client, message) in new (TestClient, object)[]
        {
            (alice, new { type = "message", content = "b1", id = "1" }),
            (alice, new { type = "message", content = "to carol", target_device_id = "carol", id = "2" }),
            (carol, new { type = "message", content = "to bob", target_device_id = "bob", id = "3" }),
            (alice, new { type = "message", content = "b2", id = "4" }),
            (alice, new { type = "message", content = "b3", id = "5" }),
        })
        {
            await client.SendObjectAsync(message);
            await ReceiveAck(client);
        }

        // Bob's live copies first (b1, to bob, b2, b3), so the next frames are the history answers.
        for (var live = 0; live < 4; live++)
        {
            Assert.Equal("message", (await bob.ReceiveAsync()).GetProperty("type").GetString());
        }

        var latest = await bob.SendHistoryAsync(new { type = "history", latest = true, limit = 2 });
        var before = await bob.SendHistoryAsync(new { type = "history", before_message_id = latest.GetProperty("messages")[0].GetProperty("message_id").GetString(), limit = 2 });
        var oldest = await bob.SendHistoryAsync(new { type = "history", before_message_id = before.GetProperty("messages")[0].GetProperty("message_id").GetString(), limit = 2 });
        var everything = await bob.SendHistoryAsync(new { type = "history", latest = true });

        Assert.Equal(["b2", "b3"], Contents(latest));
        Assert.True(latest.GetProperty("has_more").GetBoolean());
        Assert.Equal(["b1", "to bob"], Contents(before));
        Assert.False(before.GetProperty("has_more").GetBoolean());
        Assert.Empty(Contents(oldest));
        Assert.Equal(["b1", "to bob", "b2", "b3"], Contents(everything));
        Assert.False(everything.GetProperty("has_more").GetBoolean());

        await bob.SendObjectAsync(new { type = "history", latest = true, after_message_id = "1" });
        await bob.ExpectErrorAsync("Give one of 'after_message_id'");
        await bob.SendObjectAsync(new { type = "history", before_message_id = "x9" });
        await bob.ExpectErrorAsync("'before_message_id' must be a message id");
        await bob.SendObjectAsync(new { type = "history", latest = "yes" });
        await bob.ExpectErrorAsync("'latest' must be true or false");
    }

    [Fact]
    public async Task Error_AboutAFrameWithAnId_CarriesThatId_SeedErrorsStayAsTheyWere()
    {
        var (alice, _) = await Identified("alice", ignorePresence: true);

        await alice.SendObjectAsync(new { type = "message", content = "psst", target_device_id = "nobody", id = "c-17" });
        Assert.Equal("""{"type":"error","id":"c-17","message":"Target device not found: nobody"}""", await alice.ReceiveTextAsync());
        await alice.SendObjectAsync(new { type = "message", content = new string('x', 20_000), id = "c-18" });
        var tooLong = await alice.ReceiveAsync();
        Assert.Equal(("error", "c-18"), (tooLong.GetProperty("type").GetString(), tooLong.GetProperty("id").GetString()));
        await alice.SendObjectAsync(new { type = "message", content = "psst", target_device_id = "nobody" });
        Assert.Equal("""{"type":"error","message":"Target device not found: nobody"}""", await alice.ReceiveTextAsync());
    }

    [Fact]
    public async Task History_BeforeIdentify_IdentifyFirst()
    {
        var client = await TestClient.ConnectAsync(_server);
        _clients.Add(client);
        await client.ReceiveAsync();

        await client.SendAsync("""{"type":"history"}""");

        await client.ExpectErrorAsync("Identify first");
    }

    private static async Task ReceiveAck(TestClient client)
    {
        while ((await client.ReceiveAsync()).GetProperty("type").GetString() != "ack")
        {
        }
    }

    private static List<string> Contents(JsonElement history) =>
        [.. history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()!)];

    private async Task<(TestClient Client, string RoomId)> Identified(string deviceId, string? roomId = null, bool ignorePresence = false)
    {
        var (client, room) = await TestClient.IdentifiedAsync(_server, deviceId, roomId);
        client.IgnoresPresence = ignorePresence;
        _clients.Add(client);
        return (client, room.GetProperty("room_id").GetString()!);
    }

    private async Task<T> Rows<T>(Func<RoomsDbContext, Task<T>> query)
    {
        await using var db = _database.OpenContext();
        return await query(db);
    }
}

public sealed class SqliteExtensionTests() : ExtensionTests(DatabaseProvider.Sqlite);

public sealed class MySqlExtensionTests() : ExtensionTests(DatabaseProvider.MySql);

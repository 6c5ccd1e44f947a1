using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// One client must not take the server's memory: what waits for a client is bounded in bytes, a client whose socket
/// takes no data is dropped, and big answers (history pages, room_info) are bounded. The client here never reads and
/// advertises a tiny TCP window, as the probe's attacker did.
/// </summary>
public sealed class MemoryBoundTests : IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task NonReaderAskingForBigHistoryPages_CutOffByTheQueuesByteBound_LongBeforeItsFrameBound()
    {
        // Pings cannot end it here (a long keep-alive timeout): only the byte bound can, within the test's bound.
        await using var server = await RoomsServer.StartAsync(_database, ["--Rooms:KeepAliveTimeout=00:05:00", .. RoomsServer.Unthrottled]);
        var roomId = await RoomWithBigMessagesAsync(server, 60);
        var hog = await NonReaderAsync(server, "hog", roomId);

        for (var i = 0; i < 40; i++)
        {
            await hog.SendObjectAsync(new { type = "history", limit = 500 });
        }

        await AssertDroppedAsync("hog", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task NonReaderUnderTheByteBound_DroppedOnceASendMakesNoProgressForTheKeepAliveTimeout()
    {
        // Bounds roomy enough that only the stalled send can end it: 20 pages of ~1 MB wait, more than kernel buffers hold.
        await using var server = await RoomsServer.StartAsync(_database,
            ["--Rooms:KeepAliveInterval=00:00:01", "--Rooms:KeepAliveTimeout=00:00:02", "--Rooms:SendQueueBytes=268435456", .. RoomsServer.Unthrottled]);
        var roomId = await RoomWithBigMessagesAsync(server, 60);
        var stalled = await NonReaderAsync(server, "stalled", roomId);

        for (var i = 0; i < 20; i++)
        {
            await stalled.SendObjectAsync(new { type = "history", limit = 500 });
        }

        await AssertDroppedAsync("stalled", TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// The probe's 300 non-readers from one address, each asking for three 1 MiB pages, took the server from 269 to 1 864
    /// MiB. Big replies waiting to be sent are now bounded per address (and in all): past the share, "server busy".
    /// </summary>
    [Fact]
    public async Task ManyNonReadersAskingForHistory_FromOneAddress_BoundedByTheAddressesShare()
    {
        await using var server = await RoomsServer.StartAsync(_database,
            ["--Rooms:QueuedReplyBytesPerAddress=4194304", "--Rooms:SendQueueBytes=16777216", "--Rooms:KeepAliveTimeout=00:05:00", .. RoomsServer.Unthrottled]);
        var roomId = await RoomWithBigMessagesAsync(server, 40);
        var hogs = new List<TestClient>();
        for (var i = 0; i < 8; i++)
        {
            // Twelve pages each: the first ones fill the kernel's buffers (4-5 MB a connection here), the rest wait in the server.
            var hog = await NonReaderAsync(server, $"hog-{i}", roomId);
            for (var page = 0; page < 12; page++)
            {
                await hog.SendObjectAsync(new { type = "history", limit = 500 });
            }

            hogs.Add(hog);
        }

        // The pages (~1 MB each) wait for the eight until the address's 4 MiB are spent; the rest are refused.
        await Eventually.TrueAsync(async () => await MetricAsync(server, "rooms_send_queue_replies_refused") > 0, TimeSpan.FromSeconds(20));
        Assert.InRange(await MetricAsync(server, "rooms_send_queue_reply_bytes"), 1, 4 * 1024 * 1024);

        // Once they are gone, so is what waited for them.
        foreach (var hog in hogs)
        {
            await hog.DisposeAsync();
        }

        await Eventually.TrueAsync(async () => await MetricAsync(server, "rooms_send_queue_reply_bytes") == 0, TimeSpan.FromSeconds(20));
        var (asker, _) = await TestClient.IdentifiedAsync(server, "asker", roomId);
        asker.IgnoresPresence = true;
        Assert.True((await asker.SendHistoryAsync(new { type = "history", limit = 500 })).GetProperty("messages").GetArrayLength() > 10);
        await asker.DisposeAsync();
    }

    /// <summary>
    /// The probe's client asked for small pages every half second, never read and never answered a ping, and was still
    /// connected after 120 s: its frames counted as alive, and the kernel buffered megabytes before a send stalled.
    /// </summary>
    [Fact]
    public async Task ANonReaderThatKeepsSending_IsDroppedSoon_ItsFramesDoNotKeepItAlive()
    {
        await using var server = await RoomsServer.StartAsync(_database,
            ["--Rooms:KeepAliveInterval=00:00:01", "--Rooms:KeepAliveTimeout=00:00:02", .. RoomsServer.Unthrottled]);
        var (writer, room) = await TestClient.IdentifiedAsync(server, "small-writer");
        for (var i = 0; i < 20; i++)
        {
            await writer.SendObjectAsync(new { type = "message", content = new string('y', 200), id = $"s{i}" });
            await writer.ReceiveAsync();
        }

        var sender = await NonReaderAsync(server, "sender", room.GetProperty("room_id").GetString()!);
        using var asking = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var keepsAsking = Task.Run(async () =>
        {
            while (!asking.IsCancellationRequested)
            {
                await sender.SendObjectAsync(new { type = "history", limit = 20 });
                await Task.Delay(100);
            }
        });

        await AssertDroppedAsync("sender", TimeSpan.FromSeconds(25));
        await asking.CancelAsync();
        await Task.WhenAny(keepsAsking); // ends by the cancel or by the closed socket, either is fine
        await writer.DisposeAsync();
        await sender.DisposeAsync();
    }

    [Fact]
    public async Task HistoryPageAndRoomInfo_BoundedWithHasMoreAndExactTotal()
    {
        await using var server = await RoomsServer.StartAsync(_database, ["--Rooms:MaxHistoryPageBytes=100000", "--Rooms:MaxRoomInfoClients=2", .. RoomsServer.Unthrottled]);
        var roomId = await RoomWithBigMessagesAsync(server, 10);
        var (reader, _) = await TestClient.IdentifiedAsync(server, "reader", roomId);
        var members = new List<TestClient>();
        for (var i = 0; i < 3; i++)
        {
            members.Add((await TestClient.IdentifiedAsync(server, $"member-{i}", roomId)).Client);
        }

        reader.IgnoresPresence = true;
        var page = await reader.SendHistoryAsync(new { type = "history", limit = 500 });
        var info = await reader.QueryRoomAsync();

        // 48 KB messages (16 000 x 3-byte €): two fit in 100 000 bytes, and has_more says the rest follow.
        Assert.Equal(2, page.GetProperty("messages").GetArrayLength());
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.True(info.GetProperty("clients").GetArrayLength() == 2, info.ToString());
        Assert.Equal(4, info.GetProperty("total_clients").GetInt32());
        foreach (var member in members.Append(reader))
        {
            await member.DisposeAsync();
        }
    }

    /// <summary>
    /// The probe's room: 520 messages of 700 x € make pages whose contents fit 1 MiB but whose frames did not (1 120 820 B,
    /// over websockets' default max_size); and messages of control characters, escaped to 6 bytes each. Every page frame
    /// stays within 1 MiB, forward and backward, and the pages together hold every message once.
    /// </summary>
    [Theory]
    [InlineData("€", 700, 520)]
    [InlineData("\u0001", 16_000, 30)]
    public async Task EveryHistoryFrame_StaysWithinOneMebibyte_ForwardAndBackward(string character, int length, int count)
    {
        await using var server = await RoomsServer.StartAsync(_database, RoomsServer.Unthrottled);
        var (writer, room) = await TestClient.IdentifiedAsync(server, "writer");
        var content = string.Concat(Enumerable.Repeat(System.Text.RegularExpressions.Regex.Unescape(character), length));
        for (var i = 0; i < count; i++)
        {
            await writer.SendObjectAsync(new { type = "message", content, id = $"w{i}" });
            Assert.Equal("ack", (await writer.ReceiveAsync()).GetProperty("type").GetString());
        }

        var roomId = room.GetProperty("room_id").GetString()!;
        var (reader, _) = await TestClient.IdentifiedAsync(server, "reader", roomId);
        reader.IgnoresPresence = true;
        var forward = new List<long>();
        string after = "0";
        for (var more = true; more;)
        {
            await reader.SendObjectAsync(new { type = "history", after_message_id = after, limit = 500 });
            var (frame, bytes) = await ReceiveHistoryAsync(reader);
            Assert.True(bytes <= 1024 * 1024, $"a forward page of {bytes} bytes");
            forward.AddRange(frame.GetProperty("messages").EnumerateArray().Select(m => long.Parse(m.GetProperty("message_id").GetString()!)));
            after = forward[^1].ToString();
            more = frame.GetProperty("has_more").GetBoolean();
        }

        var backward = new List<long>();
        object request = new { type = "history", latest = true, limit = 500 };
        for (var more = true; more;)
        {
            await reader.SendObjectAsync(request);
            var (frame, bytes) = await ReceiveHistoryAsync(reader);
            Assert.True(bytes <= 1024 * 1024, $"a backward page of {bytes} bytes");
            backward.InsertRange(0, frame.GetProperty("messages").EnumerateArray().Select(m => long.Parse(m.GetProperty("message_id").GetString()!)));
            request = new { type = "history", before_message_id = backward[0].ToString(), limit = 500 };
            more = frame.GetProperty("has_more").GetBoolean();
        }

        Assert.Equal(count, forward.Distinct().Count());
        Assert.Equal(forward, backward);
        await writer.DisposeAsync();
        await reader.DisposeAsync();
    }

    private static async Task<long> MetricAsync(RoomsServer server, string name)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(server.BaseUri, "/metrics"));
        return long.Parse(metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(JsonElement Frame, int Bytes)> ReceiveHistoryAsync(TestClient client)
    {
        var text = await client.ReceiveTextAsync();
        using var document = JsonDocument.Parse(text);
        Assert.Equal("history", document.RootElement.GetProperty("type").GetString());
        return (document.RootElement.Clone(), System.Text.Encoding.UTF8.GetByteCount(text));
    }

    private static async Task<string> RoomWithBigMessagesAsync(RoomsServer server, int count)
    {
        var (writer, room) = await TestClient.IdentifiedAsync(server, "writer");
        for (var i = 0; i < count; i++)
        {
            await writer.SendObjectAsync(new { type = "message", content = new string('€', 16_000), id = $"w{i}" });
            Assert.Equal("ack", (await writer.ReceiveAsync()).GetProperty("type").GetString());
        }

        await writer.DisposeAsync();
        return room.GetProperty("room_id").GetString()!;
    }

    private static async Task<TestClient> NonReaderAsync(RoomsServer server, string deviceId, string roomId)
    {
        var (status, client) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), IPAddress.Loopback, forwardedFor: null, receiveBufferBytes: 4096);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
        await client!.ReceiveAsync();
        await client.IdentifyAsync(deviceId, roomId);
        return client;
    }

    private async Task AssertDroppedAsync(string deviceId, TimeSpan bound) =>
        await Eventually.TrueAsync(async () =>
        {
            await using var db = _database.OpenContext();
            return await db.Connections.AnyAsync(c => c.DeviceId == deviceId && c.DisconnectedAt != null);
        }, bound, pollMilliseconds: 200);
}

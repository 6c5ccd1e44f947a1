using System.Net;
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

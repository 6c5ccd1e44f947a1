using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;
using Rooms.WebSocketHost.Connections;

namespace Rooms.EndToEnd.Tests;

/// <summary>Big rooms at CI sizes: coalesced presence, the single-event path, room_info capped, a slow member among many.</summary>
public sealed class BigRoomTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private readonly List<TestClient> _clients = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        _database.Dispose();
    }

    [Fact]
    public async Task PresenceWithinAWindow_OneDiffFrame_JoinAndLeaveInsideItCancel()
    {
        // A long window, so that what follows the opener surely falls inside it.
        await using var server = await RoomsServer.StartAsync(_database, ["--Rooms:PresenceWindow=00:00:01.500", .. RoomsServer.Unthrottled]);
        var (alice, roomId) = await Identified(server, "alice");
        await Task.Delay(3500); // alice's own join opened a window; let it close.

        var (opener, _) = await Identified(server, "opener", roomId);
        Assert.Equal("""{"type":"presence","event":"joined","room_id":"R","device_id":"opener","identity":"opener_user"}""".Replace("\"R\"", $"\"{roomId}\"", StringComparison.Ordinal),
            JsonSerializer.Serialize(await alice.ReceiveAsync()));

        foreach (var device in new[] { "c1", "c2", "c3" })
        {
            await Identified(server, device, roomId);
        }

        var (ghost, _) = await Identified(server, "ghost", roomId);
        await ghost.CloseAsync();
        await opener.CloseAsync();

        var diff = await alice.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            $$$"""{"type":"presence","room_id":"{{{roomId}}}","joins":{"c1":"c1_user","c2":"c2_user","c3":"c3_user"},"leaves":{"opener":"opener_user"}}""",
            JsonSerializer.Serialize(diff));
        await alice.ExpectSilenceAsync(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task PresenceWindowZero_EveryChangeItsOwnSingleEvent_AsBefore()
    {
        await using var server = await RoomsServer.StartAsync(_database, ["--Rooms:PresenceWindow=00:00:00", .. RoomsServer.Unthrottled]);
        var (alice, roomId) = await Identified(server, "alice");
        var (opener, _) = await Identified(server, "opener", roomId);
        foreach (var device in new[] { "c1", "c2" })
        {
            await Identified(server, device, roomId);
        }

        var (ghost, _) = await Identified(server, "ghost", roomId);
        await ghost.CloseAsync();
        await opener.CloseAsync();

        var heard = new List<(string, string)>();
        for (var i = 0; i < 6; i++)
        {
            var presence = await alice.ReceiveAsync();
            heard.Add((presence.GetProperty("event").GetString()!, presence.GetProperty("device_id").GetString()!));
        }

        Assert.Equal([("joined", "opener"), ("joined", "c1"), ("joined", "c2"), ("joined", "ghost"), ("left", "ghost"), ("left", "opener")], heard);
    }

    [Fact]
    public async Task BigRoom_QueryRoom_OneFrame_ClientsCapped_TotalExact()
    {
        const int members = 150;
        await using var server = await RoomsServer.StartAsync(_database, ["--Rooms:MaxRoomInfoClients=100", .. RoomsServer.Unthrottled]);
        var (asker, roomId) = await Identified(server, "asker", presence: false);
        await Task.WhenAll(Enumerable.Range(0, members).Select(i => Identified(server, $"member-{i:D3}", roomId)));

        var info = await asker.QueryRoomAsync();

        Assert.Equal(members + 1, info.GetProperty("total_clients").GetInt32());
        var listed = info.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("device_id").GetString()!).ToList();
        Assert.Equal(100, listed.Count);
        Assert.Equal(100, listed.Distinct().Count());
        Assert.All(listed, id => Assert.StartsWith("member-", id));
    }

    [Fact]
    public async Task BigRoom_ASlowMemberIsCutOff_EveryOtherMemberGetsEveryMessageInOrder()
    {
        const int members = 60;
        const int messages = 400;
        await using var server = await RoomsServer.StartAsync(_database,
            ["--Rooms:SendQueueCapacity=64", "--Rooms:SendQueueBytes=65536", "--Rooms:MaxHistoryPageBytes=65536", "--Rooms:CloseTimeout=00:00:01", .. RoomsServer.Unthrottled]);
        var (sender, roomId) = await Identified(server, "sender", presence: false);
        var readers = await Task.WhenAll(Enumerable.Range(0, members).Select(async i => (await Identified(server, $"reader-{i:D2}", roomId, presence: false)).Client));

        // A member whose socket takes 4 KiB and that never reads: its queue fills and it is cut off.
        var (status, stalled) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), IPAddress.Loopback, forwardedFor: null, receiveBufferBytes: 4096);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
        _clients.Add(stalled!);
        await stalled!.ReceiveAsync();
        await stalled.IdentifyAsync("stalled", roomId);

        var content = new string('x', 8000);
        var reading = readers.Select(reader => Task.Run(async () =>
        {
            var received = new List<string>();
            while (received.Count < messages)
            {
                var frame = await reader.ReceiveAsync(TimeSpan.FromSeconds(60));
                if (frame.GetProperty("type").GetString() == "message")
                {
                    received.Add(frame.GetProperty("content").GetString()![..4]);
                }
            }

            return received;
        })).ToArray();
        for (var i = 0; i < messages; i++)
        {
            await sender.SendObjectAsync(new { type = "message", content = $"{i:D4}{content}" });
        }

        var expected = Enumerable.Range(0, messages).Select(i => $"{i:D4}").ToList();
        foreach (var received in await Task.WhenAll(reading))
        {
            Assert.Equal(expected, received);
        }

        // 3.2 MB to a socket that takes 4 KiB: more than the kernel's buffers and the 64 KiB queue hold.
        var registry = server.Services.GetRequiredService<ConnectionRegistry>();
        await Eventually.TrueAsync(() => Task.FromResult(registry.SlowConsumersDisconnected == 1), TimeSpan.FromSeconds(10));
        await Eventually.TrueAsync(async () => (await sender.QueryRoomAsync()).GetProperty("total_clients").GetInt32() == members + 1, TimeSpan.FromSeconds(10));
    }

    private async Task<(TestClient Client, string RoomId)> Identified(RoomsServer server, string deviceId, string? roomId = null, bool presence = true)
    {
        var (client, room) = await TestClient.IdentifiedAsync(server, deviceId, roomId);
        client.IgnoresPresence = !presence;
        lock (_clients)
        {
            _clients.Add(client);
        }

        return (client, room.GetProperty("room_id").GetString()!);
    }
}

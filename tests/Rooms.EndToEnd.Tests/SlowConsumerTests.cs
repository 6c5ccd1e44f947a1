using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;
using Rooms.WebSocketHost.Connections;

namespace Rooms.EndToEnd.Tests;

/// <summary>A client that stops reading is disconnected instead of growing the server's memory; the room goes on.</summary>
public sealed class SlowConsumerTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(
        _database, ["--Rooms:SendQueueCapacity=64", "--Rooms:SendQueueBytes=67108864", "--Rooms:CloseTimeout=00:00:01", .. RoomsServer.Unthrottled]);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task ClientThatStopsReading_IsDisconnectedAndCountedOthersReceiveEverything()
    {
        var (sender, room) = await TestClient.IdentifiedAsync(_server, "sender");
        var roomId = room.GetProperty("room_id").GetString();
        var (stalled, _) = await TestClient.IdentifiedAsync(_server, "stalled", roomId);
        var (reader, _) = await TestClient.IdentifiedAsync(_server, "reader", roomId);
        sender.IgnoresPresence = reader.IgnoresPresence = true;
        var content = new string('x', 16_000);
        const int messages = 2500;

        // The reader keeps up while 40 MB go to a client that never reads: the socket buffers fill, then
        // its queue. The queue is roomy enough that a reader slowed by a busy machine is not mistaken for a stalled one.
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < messages; i++)
            {
                await reader.ReceiveAsync(TimeSpan.FromSeconds(30));
            }
        });
        for (var i = 0; i < messages; i++)
        {
            await sender.SendObjectAsync(new { type = "message", content });
        }

        await reading;
        var registry = _server.Services.GetRequiredService<ConnectionRegistry>();
        Assert.Equal(1, registry.SlowConsumersDisconnected);
        var closedBy = await ClosedStatusAsync(stalled);
        Assert.True(closedBy is WebSocketCloseStatus.PolicyViolation or null, $"closed with {closedBy}");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await sender.QueryRoomAsync()).GetProperty("total_clients").GetInt32() != 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the stalled client is still in the room");
            await Task.Delay(50);
        }
        await sender.DisposeAsync();
        await reader.DisposeAsync();
    }

    /// <summary>Reads what the server had buffered until the close (status) or the abort (null).</summary>
    private static async Task<WebSocketCloseStatus?> ClosedStatusAsync(TestClient client)
    {
        try
        {
            var (status, _) = await client.ExpectCloseAsync(TimeSpan.FromSeconds(30));
            return status;
        }
        catch (WebSocketException)
        {
            return null;
        }
    }
}

using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.SingleNode;
using Rooms.WebSocketHost.Connections;

namespace Rooms.Benchmarks;

/// <summary>
/// A stored message to its recipients: serialize once, queue the same bytes to each connection,
/// and write them through real WebSocket framing (into a stream that discards them).
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private readonly NewMessage _message = new(
        new RoomId("ABC123"), new DeviceId("device_123"), null, MessageType.Broadcast, "Hello everyone in the room! t:1:123456789", DateTime.UtcNow, ClientTimestamp: "2024-01-20T12:34:56Z");
    private RoomHub _hub = null!;
    private long _lastId;

    [Params(9, 999)]
    public int Recipients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Single node, so the bus carries nothing; the room has no stored message yet (the order starts at 0).
        _hub = new RoomHub(new LocalOnlyBus(), new NoHistory(), new NodeIdentity(new NodeId("node-a"), "bench"), new RoomsMetrics(new NoMeters()), NullLogger<RoomHub>.Instance);
        for (var i = 0; i < Recipients; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            var connection = new ClientConnection(i, socket, new SendQueueLimits(1024, 4 * 1024 * 1024, TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(5), NullLogger.Instance);
            var session = new ClientSession(i, "127.0.0.1", connection);
            session.Identified(new RoomMember(new DeviceId($"device_{i}"), "bench", new ConnectionId(i + 1), new NodeId("node-a")), new RoomId("ABC123"));
            _hub.JoinAsync(session, new RoomId("ABC123"), session.Member!, CancellationToken.None).GetAwaiter().GetResult();
            _hub.AttachAsync(session, new RoomAssignedDto("ABC123", "joined_existing"), CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>A committed broadcast handed to the hub, as the store's writer does.</summary>
    [Benchmark]
    public void SendToRoom()
    {
        // Each call is the room's next stored message, so the room's delivery order lets it straight through.
        _lastId++;
        _hub.Committed(_message, new StoredMessage(new MessageId(_lastId), new MessageId(_lastId - 1)));
    }

    private sealed class NoMeters : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }

    private sealed class NoHistory : Rooms.Application.Ports.IMessageHistory
    {
        public Task<MessageId> LastIdAsync(RoomId roomId, CancellationToken cancellationToken) => Task.FromResult(MessageId.None);

        public Task<IReadOnlyList<Rooms.Application.Ports.HistoryMessage>> BetweenAsync(RoomId roomId, MessageId afterId, MessageId beforeId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<Rooms.Application.Ports.HistoryMessage>>([]);

        public Task<(IReadOnlyList<Rooms.Application.Ports.HistoryMessage> Messages, bool HasMore)> PageAsync(RoomId roomId, DeviceId deviceId, MessageId afterId, int limit, int maxBytes, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<(IReadOnlyList<Rooms.Application.Ports.HistoryMessage> Messages, bool HasMore)> PageBeforeAsync(RoomId roomId, DeviceId deviceId, MessageId beforeId, int limit, int maxBytes, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}

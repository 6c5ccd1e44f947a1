using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Contracts;
using Rooms.Application.Common;
using Rooms.Infrastructure.Cluster;
using Rooms.WebSocketHost.Connections;

namespace Rooms.Benchmarks;

/// <summary>
/// A stored message to its recipients: serialize once, queue the same bytes to each connection,
/// and write them through real WebSocket framing (into a stream that discards them).
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private readonly DeliveredMessageDto _message = new("Hello everyone in the room! t:1:123456789", "device_123", "broadcast", "2024-01-20T12:34:56Z", 4812);
    private ConnectionNotifier _notifier = null!;
    private long _lastId;

    [Params(9, 999)]
    public int Recipients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var registry = new ConnectionRegistry(null!, NullLogger<ConnectionRegistry>.Instance);
        for (var i = 0; i < Recipients; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            var connection = new ClientConnection(i, socket, new SendQueueLimits(1024, 4 * 1024 * 1024, TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(5), NullLogger.Instance);
            registry.Add(connection);
            registry.Attach(connection, new ConnectionMembership("ABC123", $"device_{i}"), lastMessageId: 0);
        }

        // The sender is one more member of the room; single node, so the bus carries nothing.
        _notifier = new ConnectionNotifier(registry, new LocalOnlyBus(), new NodeIdentity("node-a", "bench"));
    }

    [Benchmark]
    public int SendToRoom()
    {
        // Each call is the room's next stored message, so the room's delivery order lets it straight through.
        _lastId++;
        return _notifier.SendToRoom("ABC123", "device_123", _message with { MessageId = _lastId, PreviousMessageId = _lastId - 1 });
    }
}

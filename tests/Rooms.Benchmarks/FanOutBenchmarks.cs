using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Contracts;
using Rooms.Domain.Rooms;
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
    private RoomMember[] _recipients = [];

    [Params(9, 999)]
    public int Recipients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var registry = new ConnectionRegistry();
        _recipients = new RoomMember[Recipients];
        for (var i = 0; i < Recipients; i++)
        {
            var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = true });
            registry.Add(new ClientConnection(i, socket, queueCapacity: 1024, TimeSpan.FromSeconds(5), NullLogger.Instance));
            _recipients[i] = new RoomMember($"device_{i}", "load", i);
        }

        _notifier = new ConnectionNotifier(registry);
    }

    [Benchmark]
    public int Forward() => _notifier.Forward(_recipients, _message);
}

using System.Text;
using BenchmarkDotNet.Attributes;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.WebSocketHost.Frames;

namespace Rooms.Benchmarks;

/// <summary>Text frame to MediatR request: the first step of every message.</summary>
[MemoryDiagnoser]
public class FrameTranslationBenchmarks
{
    private readonly byte[] _broadcast = Encoding.UTF8.GetBytes(
        """{"type":"message","content":"Hello everyone in the room! t:1:123456789","timestamp":"2024-01-20T12:34:56Z"}""");

    private readonly byte[] _direct = Encoding.UTF8.GetBytes(
        """{"type":"message","content":"Private message for you","target_device_id":"device_456"}""");

    private readonly byte[] _invalid = Encoding.UTF8.GetBytes("""{"type":"message","content":""");

    private readonly ClientSession _session = Identified();

    [Benchmark(Baseline = true)]
    public object? Broadcast() => FrameTranslator.Translate(_broadcast, _session).Request;

    [Benchmark]
    public object? Direct() => FrameTranslator.Translate(_direct, _session).Request;

    [Benchmark]
    public string? InvalidJson() => FrameTranslator.Translate(_invalid, _session).Error;

    private static ClientSession Identified()
    {
        var session = new ClientSession(1, "127.0.0.1", new NoChannel());
        session.Identified(new RoomMember(new DeviceId("device_123"), "mobile_user", new ConnectionId(1), new NodeId("node-a")), new RoomId("ABC123"));
        return session;
    }

    /// <summary>Translation never writes to the connection.</summary>
    private sealed class NoChannel : Rooms.Application.Ports.IClientChannel
    {
        public void SendRoomAssigned(Rooms.Application.Contracts.RoomAssignedDto room) => throw new NotSupportedException();

        public void RefuseUnauthorized(string error) => throw new NotSupportedException();

        public void CloseForAbuse(string error) => throw new NotSupportedException();
    }
}

using System.Text;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Cluster;

namespace Rooms.Infrastructure.Tests;

/// <summary>The bytes between nodes (after SignalR's RedisProtocolTests): what goes in comes out, and a node knows its own without decoding.</summary>
public sealed class EnvelopeCodecTests
{
    private static readonly byte[] Frame = Encoding.UTF8.GetBytes("""{"type":"message","content":"héllo 👋"}""");

    [Theory]
    [InlineData(EnvelopeKind.ToRoom, "ABC123", "alice", 0L, 4812L, 4790L)]
    [InlineData(EnvelopeKind.ToDevice, "room_2-x", "bob:2.a", 0L, 1L, 0L)]
    [InlineData(EnvelopeKind.CloseReplaced, null, "phone", 77L, 0L, 0L)]
    [InlineData(EnvelopeKind.ToRoom, "R1", null, 0L, 0L, 0L)]
    public void EncodeDecode_RoundTripsEveryField(EnvelopeKind kind, string? roomId, string? deviceId, long connection, long messageId, long previousId)
    {
        var envelope = new ClusterEnvelope(
            kind, RoomId.FromNullable(roomId), DeviceId.FromNullable(deviceId), new ConnectionId(connection), Frame, new MessageId(messageId), new MessageId(previousId));

        var (decoded, origin) = EnvelopeCodec.Decode(EnvelopeCodec.Encode(envelope, new NodeId("node-a.example")));

        Assert.Equal(new NodeId("node-a.example"), origin);
        Assert.Equal(
            (kind, roomId, deviceId, connection, messageId, previousId),
            (decoded.Kind, decoded.RoomId?.Value, decoded.DeviceId?.Value, decoded.Connection.Value, decoded.MessageId.Value, decoded.PreviousMessageId.Value));
        Assert.Equal(Frame, decoded.Frame.ToArray());
    }

    [Fact]
    public void IsFromAndKindOf_ReadTheHeaderOnly()
    {
        var bytes = EnvelopeCodec.Encode(new ClusterEnvelope(EnvelopeKind.Probe, null, null, ConnectionId.None, BitConverter.GetBytes(3L)), new NodeId("node-a"));

        Assert.Equal(EnvelopeKind.Probe, EnvelopeCodec.KindOf(bytes));
        Assert.True(EnvelopeCodec.IsFrom(bytes, "node-a"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-b"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-ab"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-"u8));
    }
}

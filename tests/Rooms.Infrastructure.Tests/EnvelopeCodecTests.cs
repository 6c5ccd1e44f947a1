using System.Text;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Cluster;

namespace Rooms.Infrastructure.Tests;

/// <summary>The bytes between nodes (after SignalR's RedisProtocolTests): what goes in comes out, and a node knows its own without decoding.</summary>
public sealed class EnvelopeCodecTests
{
    private static readonly byte[] Frame = Encoding.UTF8.GetBytes("""{"type":"message","content":"héllo 👋"}""");

    [Theory]
    [InlineData(EnvelopeKind.ToRoom, "ABC123", "alice", 0L, 4812L, 4790L)]
    [InlineData(EnvelopeKind.ToDevice, "ROOM-ü", "bob", 0L, 1L, 0L)]
    [InlineData(EnvelopeKind.CloseReplaced, "", "phone", 77L, 0L, 0L)]
    public void EncodeDecode_RoundTripsEveryField(EnvelopeKind kind, string roomId, string deviceId, long generation, long messageId, long previousId)
    {
        var envelope = new ClusterEnvelope(kind, roomId, deviceId, generation, Frame, messageId, previousId);

        var (decoded, origin) = EnvelopeCodec.Decode(EnvelopeCodec.Encode(envelope, "node-é"));

        Assert.Equal("node-é", origin);
        Assert.Equal((kind, roomId, deviceId, generation, messageId, previousId), (decoded.Kind, decoded.RoomId, decoded.DeviceId, decoded.Generation, decoded.MessageId, decoded.PreviousMessageId));
        Assert.Equal(Frame, decoded.Frame.ToArray());
    }

    [Fact]
    public void IsFromAndKindOf_ReadTheHeaderOnly()
    {
        var bytes = EnvelopeCodec.Encode(new ClusterEnvelope(EnvelopeKind.Probe, string.Empty, string.Empty, 3, ReadOnlyMemory<byte>.Empty), "node-a");

        Assert.Equal(EnvelopeKind.Probe, EnvelopeCodec.KindOf(bytes));
        Assert.True(EnvelopeCodec.IsFrom(bytes, "node-a"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-b"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-ab"u8));
        Assert.False(EnvelopeCodec.IsFrom(bytes, "node-"u8));
    }
}

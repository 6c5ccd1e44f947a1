using System.Buffers.Binary;
using System.Text;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// An envelope on the wire between nodes: kind, origin node, room, device (empty when none), connection, message id,
/// previous message id, then the frame's bytes untouched, so a forwarded frame is serialized once on the sending node
/// and never again.
/// </summary>
internal static class EnvelopeCodec
{
    public static byte[] Encode(ClusterEnvelope envelope, NodeId originNode) => Encode(envelope, Encoding.UTF8.GetBytes(originNode.Value));

    /// <param name="origin">The origin node's id in UTF-8 (a node encodes it once).</param>
    public static byte[] Encode(ClusterEnvelope envelope, byte[] origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        var room = Encoding.UTF8.GetBytes(envelope.RoomId?.Value ?? string.Empty);
        var device = Encoding.UTF8.GetBytes(envelope.DeviceId?.Value ?? string.Empty);
        var bytes = new byte[1 + (2 + origin.Length) + (2 + room.Length) + (2 + device.Length) + 24 + envelope.Frame.Length];
        var span = bytes.AsSpan();
        span[0] = (byte)envelope.Kind;
        span = span[1..];
        WriteString(ref span, origin);
        WriteString(ref span, room);
        WriteString(ref span, device);
        BinaryPrimitives.WriteInt64LittleEndian(span, envelope.Connection.Value);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], envelope.MessageId.Value);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], envelope.PreviousMessageId.Value);
        envelope.Frame.Span.CopyTo(span[24..]);
        return bytes;
    }

    /// <summary>The envelope's kind, read without decoding the rest.</summary>
    public static EnvelopeKind KindOf(ReadOnlySpan<byte> bytes) => (EnvelopeKind)bytes[0];

    /// <summary>Whether the envelope was published by <paramref name="origin"/> (UTF-8), read without decoding the rest.</summary>
    public static bool IsFrom(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> origin)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[1..]);
        return length == origin.Length && bytes.Slice(3, length).SequenceEqual(origin);
    }

    public static (ClusterEnvelope Envelope, NodeId OriginNode) Decode(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        var kind = (EnvelopeKind)span[0];
        var offset = 1;
        var origin = ReadString(span, ref offset);
        var room = ReadString(span, ref offset);
        var device = ReadString(span, ref offset);
        var connection = new ConnectionId(BinaryPrimitives.ReadInt64LittleEndian(span[offset..]));
        var messageId = new MessageId(BinaryPrimitives.ReadInt64LittleEndian(span[(offset + 8)..]));
        var previousMessageId = new MessageId(BinaryPrimitives.ReadInt64LittleEndian(span[(offset + 16)..]));
        offset += 24;
        var envelope = new ClusterEnvelope(
            kind, room.Length == 0 ? null : new RoomId(room), device.Length == 0 ? null : new DeviceId(device), connection, bytes[offset..], messageId, previousMessageId);
        return (envelope, new NodeId(origin));
    }

    private static void WriteString(ref Span<byte> span, byte[] value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)value.Length));
        value.CopyTo(span[2..]);
        span = span[(2 + value.Length)..];
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int offset)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
        var value = Encoding.UTF8.GetString(span.Slice(offset + 2, length));
        offset += 2 + length;
        return value;
    }
}

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;

namespace Rooms.WebSocketHost.Frames;

/// <summary>
/// Writes server frames as compact UTF-8 JSON with the field names and order of docs/protocol.md.
/// Each frame is written once; a forwarded message's bytes are shared by all its recipients.
/// </summary>
internal static class FrameWriter
{
    // Frames go to WebSocket clients, not into HTML: text, emoji included, is sent as UTF-8 rather than \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Utf8JsonEncoder.Instance };

    public static readonly ReadOnlyMemory<byte> Connected =
        """{"type":"connection","message":"Connected successfully"}"""u8.ToArray();

    /// <summary>An error; with the <c>id</c> of the frame it is about, when that frame carried one (an extension: seed clients ignore it).</summary>
    public static byte[] Error(string message, string? clientId = null) => Write((message, clientId), static (w, e) =>
    {
        w.WriteString("type"u8, "error"u8);
        if (e.clientId is not null)
        {
            w.WriteString("id"u8, e.clientId);
        }

        w.WriteString("message"u8, e.message);
    });

    public static byte[] Room(RoomAssignedDto room) => Write(room, static (w, r) =>
    {
        w.WriteString("type"u8, "room"u8);
        w.WriteString("room_id"u8, r.RoomId);
        w.WriteString("status"u8, r.Status);
    });

    public static byte[] RoomInfo(RoomInfoDto info) => Write(info, static (w, i) =>
    {
        w.WriteString("type"u8, "room_info"u8);
        w.WriteString("room_id"u8, i.RoomId);
        w.WriteNumber("total_clients"u8, i.TotalClients);
        w.WriteStartArray("clients"u8);
        foreach (var client in i.Clients)
        {
            w.WriteStartObject();
            w.WriteString("device_id"u8, client.DeviceId);
            w.WriteString("identity"u8, client.Identity);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    public static byte[] Message(DeliveredMessageDto message) => Write(message, WriteMessageBody);

    /// <summary>A message this node just stored, written from the stored record (no intermediate DTO: this is the hot path).</summary>
    public static byte[] Message(NewMessage message, MessageId messageId) => Write((message, messageId: messageId.Value), static (w, m) =>
    {
        w.WriteString("type"u8, "message"u8);
        w.WriteString("content"u8, m.message.Content);
        w.WriteString("from_device_id"u8, m.message.FromDeviceId.Value);
        w.WriteString("message_type"u8, m.message.Type == Rooms.Domain.Messages.MessageType.Direct ? "direct"u8 : "broadcast"u8);
        if (m.message.ClientTimestamp is { } timestamp)
        {
            w.WriteString("timestamp"u8, timestamp);
        }
        else
        {
            Span<char> stamp = stackalloc char[32];
            m.message.SentAt.TryFormat(stamp, out var length, FieldRules.TimestampFormat, CultureInfo.InvariantCulture);
            w.WriteString("timestamp"u8, stamp[..length]);
        }

        Span<byte> id = stackalloc byte[20];
        m.messageId.TryFormat(id, out var idLength, default, CultureInfo.InvariantCulture);
        w.WriteString("message_id"u8, id[..idLength]);
    });

    public static byte[] Ack(AckDto ack) => Write(ack, static (w, a) =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("id"u8, a.Id);
        w.WriteString("message_id"u8, a.MessageId.ToString(CultureInfo.InvariantCulture));
        w.WriteNumber("recipients"u8, a.Recipients);
    });

    public static byte[] History(HistoryDto history) => Write(history, static (w, h) =>
    {
        w.WriteString("type"u8, "history"u8);
        w.WriteString("room_id"u8, h.RoomId);
        w.WriteStartArray("messages"u8);
        foreach (var message in h.Messages)
        {
            w.WriteStartObject();
            WriteMessageBody(w, message);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteBoolean("has_more"u8, h.HasMore);
    });

    public static byte[] Presence(PresenceEventDto presence) => Write(presence, static (w, p) =>
    {
        w.WriteString("type"u8, "presence"u8);
        w.WriteString("event"u8, p.Event);
        w.WriteString("room_id"u8, p.RoomId);
        w.WriteString("device_id"u8, p.DeviceId);
        w.WriteString("identity"u8, p.Identity);
    });

    /// <summary>
    /// The coalesced presence frame: <c>joins</c> and <c>leaves</c> of one window, each an object of device id to
    /// identity (docs/protocol.md §5). Half the bytes of a list of <c>{"device_id":…,"identity":…}</c> objects, which
    /// matters: in a big room these frames are most of what a reconnect storm sends.
    /// </summary>
    public static byte[] PresenceDiff(PresenceDiffDto diff) => Write(diff, static (w, d) =>
    {
        w.WriteString("type"u8, "presence"u8);
        w.WriteString("room_id"u8, d.RoomId);
        Members(w, "joins"u8, d.Joins);
        Members(w, "leaves"u8, d.Leaves);
    });

    private static void Members(Utf8JsonWriter w, ReadOnlySpan<byte> name, IReadOnlyList<ClientInfoDto> members)
    {
        w.WriteStartObject(name);
        foreach (var member in members)
        {
            w.WriteString(member.DeviceId, member.Identity);
        }

        w.WriteEndObject();
    }

    /// <summary>
    /// A frame of a newer command (typing): <c>"type"</c>, then the DTO's properties in snake_case, in their declared
    /// order. The seed's frames above are written field by field, in the seed's order.
    /// </summary>
    public static Func<T, byte[]> Reply<T>(string type) => value => Typed(type, JsonSerializer.SerializeToElement(value, BodyOptions));

    /// <summary>A room event (not stored), written as <see cref="Reply{T}"/> writes a reply.</summary>
    public static byte[] Event(IRoomEvent roomEvent)
    {
        ArgumentNullException.ThrowIfNull(roomEvent);
        return Typed(roomEvent.FrameType, JsonSerializer.SerializeToElement(roomEvent, roomEvent.GetType(), BodyOptions));
    }

    private static byte[] Typed(string type, JsonElement body) => Write((type, body), static (w, frame) =>
    {
        w.WriteString("type"u8, frame.type);
        foreach (var property in frame.body.EnumerateObject())
        {
            property.WriteTo(w);
        }
    });

    private static readonly JsonSerializerOptions BodyOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = Utf8JsonEncoder.Instance };

    /// <summary>A delivered message: the seed's fields in the seed's order, then the extension's <c>message_id</c> (a string).</summary>
    private static void WriteMessageBody(Utf8JsonWriter w, DeliveredMessageDto m)
    {
        w.WriteString("type"u8, "message"u8);
        w.WriteString("content"u8, m.Content);
        w.WriteString("from_device_id"u8, m.FromDeviceId);
        w.WriteString("message_type"u8, m.MessageType);
        w.WriteString("timestamp"u8, m.Timestamp);
        w.WriteString("message_id"u8, m.MessageId.ToString(CultureInfo.InvariantCulture));
    }

    // One scratch buffer and writer per thread: a frame costs only its final byte array.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static byte[] Write<T>(T value, Action<Utf8JsonWriter, T> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        body(writer, value);
        writer.WriteEndObject();
        writer.Flush();
        var frame = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024)
        {
            // A rare huge frame should not pin its buffer to the thread forever.
            t_buffer = null;
            t_writer = null;
        }

        return frame;
    }
}

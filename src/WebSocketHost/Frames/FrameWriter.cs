using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Rooms.Application.Contracts;

namespace Rooms.WebSocketHost.Frames;

/// <summary>
/// Writes server frames as compact UTF-8 JSON with PROTOCOL.md's field names and order.
/// Each frame is written once; a forwarded message's bytes are shared by all its recipients.
/// </summary>
internal static class FrameWriter
{
    // Frames go to WebSocket clients, not into HTML, so non-ASCII text is sent as UTF-8 rather than \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly ReadOnlyMemory<byte> Connected =
        """{"type":"connection","message":"Connected successfully"}"""u8.ToArray();

    public static byte[] Error(string message) => Write(message, static (w, m) =>
    {
        w.WriteString("type"u8, "error"u8);
        w.WriteString("message"u8, m);
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

    public static byte[] Message(DeliveredMessageDto message) => Write(message, static (w, m) =>
    {
        w.WriteString("type"u8, "message"u8);
        w.WriteString("content"u8, m.Content);
        w.WriteString("from_device_id"u8, m.FromDeviceId);
        w.WriteString("message_type"u8, m.MessageType);
        w.WriteString("timestamp"u8, m.Timestamp);
    });

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

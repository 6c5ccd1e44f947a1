using System.Text.Json;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Sessions;
using Rooms.Domain.Messages;

namespace Rooms.WebSocketHost.Frames;

/// <summary>Turns one text frame into the request it asks for, or into the error the client is told.</summary>
internal static class FrameTranslator
{
    public const string InvalidJson = "Invalid JSON format";
    public const string NotAnObject = "Invalid message: expected a JSON object";

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    /// <summary>The request a frame asks for, carrying the frame's client <c>id</c> (when it is a valid one) for an error about it.</summary>
    public static Translation Translate(ReadOnlySpan<byte> utf8Json, ClientSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (!TryRead(utf8Json, out var frame, out var error))
        {
            return Translation.Failed(error);
        }

        var translation = TranslateFrame(frame, session);
        return ClientMessageId.IsValid(frame.Id) ? translation with { ClientId = frame.Id } : translation;
    }

    private static Translation TranslateFrame(ClientFrame frame, ClientSession session)
    {
        if (frame.WrongTypeField is { } field)
        {
            return Translation.Failed($"'{field}' must be {frame.WrongTypeExpected ?? "a string"}");
        }

        if (frame.Type is null)
        {
            // The seed protocol's identify has no type; after identify, a typeless frame is an error.
            return !session.IsIdentified || frame.LooksLikeIdentify
                ? ClientFrames.All[0].Translate(frame, session)
                : Translation.Failed(ClientFrames.MissingType);
        }

        return ClientFrames.Find(frame.Type) is { } type
            ? type.Translate(frame, session)
            : Translation.Failed(session.IsIdentified ? $"Unknown message type: {LogSampler.Shorten(frame.Type)} ({ClientFrames.ExpectedTypes})" : FieldRules.IdentifyFirst);
    }

    private static bool TryRead(ReadOnlySpan<byte> utf8Json, out ClientFrame frame, out string error)
    {
        frame = default;
        error = InvalidJson;
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                error = reader.Read() ? InvalidJson : NotAnObject;
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ReadProperty(ref reader, ref frame);
            }

            // Only whitespace may follow the object.
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // A string that cannot be transcoded (e.g. an escaped lone surrogate).
            return false;
        }
    }

    private static void ReadProperty(ref Utf8JsonReader reader, ref ClientFrame frame)
    {
        if (reader.ValueTextEquals("type"u8))
        {
            frame.Type = ReadType(ref reader, ref frame);
        }
        else if (reader.ValueTextEquals("device_id"u8))
        {
            frame.DeviceId = ReadString(ref reader, "device_id", ref frame);
        }
        else if (reader.ValueTextEquals("identity"u8))
        {
            frame.Identity = ReadString(ref reader, "identity", ref frame);
        }
        else if (reader.ValueTextEquals("room_id"u8))
        {
            frame.RoomId = ReadString(ref reader, "room_id", ref frame);
        }
        else if (reader.ValueTextEquals("content"u8))
        {
            frame.Content = ReadString(ref reader, "content", ref frame);
        }
        else if (reader.ValueTextEquals("target_device_id"u8))
        {
            frame.TargetDeviceId = ReadString(ref reader, "target_device_id", ref frame);
        }
        else if (reader.ValueTextEquals("timestamp"u8))
        {
            frame.Timestamp = ReadString(ref reader, "timestamp", ref frame);
        }
        else if (reader.ValueTextEquals("id"u8))
        {
            frame.Id = ReadString(ref reader, "id", ref frame);
        }
        else if (reader.ValueTextEquals("after_message_id"u8))
        {
            frame.AfterMessageId = ReadString(ref reader, "after_message_id", ref frame);
        }
        else if (reader.ValueTextEquals("before_message_id"u8))
        {
            frame.BeforeMessageId = ReadString(ref reader, "before_message_id", ref frame);
        }
        else if (reader.ValueTextEquals("latest"u8))
        {
            frame.Latest = ReadBool(ref reader, "latest", ref frame);
        }
        else if (reader.ValueTextEquals("token"u8))
        {
            frame.Token = ReadString(ref reader, "token", ref frame);
        }
        else if (reader.ValueTextEquals("limit"u8))
        {
            frame.Limit = ReadInt(ref reader, "limit", ref frame);
        }
        else
        {
            // Unknown fields are ignored, so clients of later protocol versions keep working.
            reader.Read();
            reader.Skip();
        }
    }

    /// <summary>The known types come back as literals, so the common frames allocate no string for their type.</summary>
    private static string? ReadType(ref Utf8JsonReader reader, ref ClientFrame frame)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            foreach (var type in ClientFrames.All)
            {
                if (reader.ValueTextEquals(type.Utf8Name))
                {
                    return type.Name;
                }
            }

            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            frame.WrongTypeField ??= "type";
            reader.Skip();
        }

        return null;
    }

    /// <summary>A whole number; anything else (a fraction, a string, a number out of range) is the field's error.</summary>
    private static int? ReadInt(ref Utf8JsonReader reader, string name, ref ClientFrame frame)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
        {
            return value;
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            frame.WrongTypeField ??= name;
            frame.WrongTypeExpected = "a whole number";
            reader.Skip();
        }

        return null;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string name, ref ClientFrame frame)
    {
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
            case JsonTokenType.Null:
                return false;
            default:
                frame.WrongTypeField ??= name;
                frame.WrongTypeExpected = "true or false";
                reader.Skip();
                return false;
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader, string name, ref ClientFrame frame)
    {
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Null:
                return null;
            default:
                frame.WrongTypeField ??= name;
                reader.Skip();
                return null;
        }
    }
}

/// <summary>
/// A request to send through the mediator, or an error to send back. A request is typed when it is made (by its
/// row of <see cref="ClientFrames"/>), so its result reaches the wire the same way for every command: the reply
/// frame its row writes from the handler's value, or an error frame.
/// </summary>
internal readonly record struct Translation(IBaseRequest? Request, string? Error, ClientFrameType? Type)
{
    /// <summary>The frame's <c>id</c>: an error about this frame carries it, so a client with several in flight knows which failed.</summary>
    public string? ClientId { get; init; }

    public static Translation Failed(string error) => new(null, error, null);
}

/// <summary>What a handled frame sends back: an error, or its reply (none for some commands).</summary>
internal readonly record struct Outcome(string? Error, byte[]? Reply);

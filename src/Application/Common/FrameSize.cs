using Rooms.Application.Contracts;

namespace Rooms.Application.Common;

/// <summary>
/// Upper bounds of what a frame takes on the wire, so a frame can be cut to fit <see cref="Domain.ProtocolLimits.MaxServerFrameBytes"/>
/// before it is written: the server writes JSON as UTF-8 and escapes only <c>"</c>, <c>\</c>, control characters (at most
/// 6 bytes each as <c>\uXXXX</c>) and lone surrogates.
/// </summary>
public static class FrameSize
{
    /// <summary>A history frame without its messages: type, room id (at most 32 ASCII), the brackets and has_more.</summary>
    public const int HistoryEnvelope = 128;

    /// <summary>A delivered message's field names, punctuation, type and id.</summary>
    private const int MessageFields = 128;

    /// <summary>Bytes of <paramref name="text"/> as a JSON string's contents, at most.</summary>
    public static int Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x20 || c == '"' || c == '\\')
            {
                bytes += 6;
            }
            else if (c < 0x80)
            {
                bytes++;
            }
            else if (c < 0x800)
            {
                bytes += 2;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                bytes += 4;
                i++;
            }
            else
            {
                bytes += char.IsSurrogate(c) ? 6 : 3;
            }
        }

        return bytes;
    }

    /// <summary>One message as an element of a history frame, at most.</summary>
    public static int Of(DeliveredMessageDto message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return MessageFields + Of(message.Content) + Of(message.FromDeviceId) + Of(message.Timestamp);
    }
}

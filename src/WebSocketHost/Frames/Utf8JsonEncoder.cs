using System.Text;
using System.Text.Encodings.Web;

namespace Rooms.WebSocketHost.Frames;

/// <summary>
/// Escapes only what JSON requires (<c>"</c>, <c>\</c>, control characters) and what UTF-8 cannot carry
/// (lone surrogates); everything else, emoji included, is written as UTF-8. The built-in encoders
/// \u-escape every character outside the Basic Multilingual Plane, which makes emoji three times
/// larger on the wire than they arrived (docs/protocol.md, "Frames").
/// </summary>
internal sealed class Utf8JsonEncoder : JavaScriptEncoder
{
    public static readonly Utf8JsonEncoder Instance = new();

    private Utf8JsonEncoder()
    {
    }

    /// <summary>One scalar becomes at most one <c>\uXXXX</c>.</summary>
    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar is < 0x20 or '"' or '\\' or (>= 0xD800 and <= 0xDFFF);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c is < (char)0x20 or '"' or '\\')
            {
                return i;
            }

            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return -1;
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        var index = 0;
        while (index < utf8Text.Length)
        {
            var b = utf8Text[index];
            if (b < 0x80)
            {
                if (b is < 0x20 or (byte)'"' or (byte)'\\')
                {
                    return index;
                }

                index++;
                continue;
            }

            if (Rune.DecodeFromUtf8(utf8Text[index..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return index;
            }

            index += consumed;
        }

        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var destination = new Span<char>(buffer, bufferLength);
        if (!WillEncode(unicodeScalar))
        {
            // A supplementary-plane scalar the caller handed over whole: write it as its surrogate pair.
            if (!Rune.TryCreate(unicodeScalar, out var rune) || !rune.TryEncodeToUtf16(destination, out numberOfCharactersWritten))
            {
                numberOfCharactersWritten = 0;
                return false;
            }

            return true;
        }

        var escape = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\b' => "\\b",
            '\f' => "\\f",
            _ => null,
        };
        if (escape is not null)
        {
            numberOfCharactersWritten = escape.Length;
            return escape.AsSpan().TryCopyTo(destination);
        }

        numberOfCharactersWritten = 6;
        return destination.Length >= 6 && $"\\u{unicodeScalar:X4}".AsSpan().TryCopyTo(destination);
    }
}

using System.Globalization;

namespace Rooms.Domain;

/// <summary>
/// Text that others see as it is written: no control characters, and none of the invisible formatting ones that make
/// a name look like another (bidirectional overrides such as U+202E, zero-width spaces, line and paragraph separators).
/// The zero-width joiner is kept between two emoji, where it builds one (a family, a flag).
/// </summary>
public static class VisibleText
{
    public static bool IsValid(string? value)
    {
        var text = value.AsSpan();
        for (var i = 0; i < text.Length; i++)
        {
            switch (char.GetUnicodeCategory(text[i]))
            {
                case UnicodeCategory.Control:
                case UnicodeCategory.LineSeparator:
                case UnicodeCategory.ParagraphSeparator:
                case UnicodeCategory.Format when !(text[i] == ZeroWidthJoiner && IsEmojiSide(text, i - 1) && IsEmojiSide(text, i + 1)):
                    return false;
            }
        }

        return true;
    }

    private const char ZeroWidthJoiner = '\u200D';

    /// <summary>An emoji next to the joiner: a surrogate (most emoji), or a symbol or variation selector (❤️).</summary>
    private static bool IsEmojiSide(ReadOnlySpan<char> text, int index) =>
        index >= 0 && index < text.Length
        && (char.IsSurrogate(text[index]) || text[index] == '\uFE0F' || char.GetUnicodeCategory(text[index]) == UnicodeCategory.OtherSymbol);
}

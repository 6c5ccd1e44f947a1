using System.Globalization;
using System.Text;

namespace Rooms.Domain;

/// <summary>
/// Text that others see as it is written, judged by code point (a supplementary-plane character is one, not two
/// UTF-16 halves): no control characters, and none of the invisible or blank ones that make a name look like another
/// or like nothing: formatting characters (bidirectional overrides such as U+202E, zero-width spaces, tag characters
/// such as U+E0041), line and paragraph separators, the Hangul fillers (U+3164, U+115F, U+1160, U+FFA0), a variation
/// selector anywhere but after a symbol, and runs of more than <see cref="MaxCombiningRun"/> combining marks. The
/// zero-width joiner is kept between two emoji, where it builds one (a family, a flag). Ordinary spaces, the
/// ideographic space of CJK names (U+3000) and look-alike letters of other scripts are names' business and pass.
/// </summary>
public static class VisibleText
{
    /// <summary>Combining marks in a row: enough for any script's stacked accents, not for text that spills over its neighbours.</summary>
    public const int MaxCombiningRun = 8;

    public static bool IsValid(string? value)
    {
        var text = value.AsSpan();
        Rune previous = default;
        var combining = 0;
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out var length) != System.Buffers.OperationStatus.Done)
            {
                return false; // a lone surrogate
            }

            var category = Rune.GetUnicodeCategory(rune);
            combining = category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark ? combining + 1 : 0;
            var refused = category switch
            {
                UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate => true,
                UnicodeCategory.Format => !(rune.Value == ZeroWidthJoiner && IsEmoji(previous) && i + length < text.Length && IsEmojiStart(text[(i + length)..])),
                _ => IsBlankFiller(rune.Value) || (IsVariationSelector(rune.Value) && !IsEmoji(previous)) || combining > MaxCombiningRun,
            };
            if (refused)
            {
                return false;
            }

            previous = rune;
            i += length;
        }

        return true;
    }

    private const int ZeroWidthJoiner = 0x200D;

    /// <summary>Letters that render as nothing: the Hangul fillers.</summary>
    private static bool IsBlankFiller(int codePoint) => codePoint is 0x3164 or 0x115F or 0x1160 or 0xFFA0;

    private static bool IsVariationSelector(int codePoint) => codePoint is (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);

    /// <summary>An emoji or a symbol (❤ before its U+FE0F), or a variation selector that followed one.</summary>
    private static bool IsEmoji(Rune rune) =>
        Rune.GetUnicodeCategory(rune) == UnicodeCategory.OtherSymbol || rune.Value >= 0x1F000 || IsVariationSelector(rune.Value);

    private static bool IsEmojiStart(ReadOnlySpan<char> text) =>
        Rune.DecodeFromUtf16(text, out var rune, out _) == System.Buffers.OperationStatus.Done && IsEmoji(rune);
}

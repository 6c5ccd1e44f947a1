using System.Globalization;
using System.Text.RegularExpressions;
using Rooms.Domain;

namespace Rooms.Application.Common;

/// <summary>Character and format rules of docs/protocol.md shared by the validators.</summary>
public static partial class FieldRules
{
    public const string IdentifyFirst = "Identify first: send {\"device_id\":...,\"identity\":...} before anything else";

    /// <summary>No control characters and no invisible formatting ones (Rooms.Domain.VisibleText).</summary>
    public static bool IsVisibleText(string? value) => VisibleText.IsValid(value);

    /// <summary>An ISO-8601 date-time (the shapes JavaScript's toISOString and Python's isoformat write) that is a real instant.</summary>
    public static bool IsIsoTimestamp(string? value) =>
        value is { Length: <= ProtocolLimits.TimestampMaxLength }
        && IsoTimestampShape().IsMatch(value)
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    /// <summary>How the server writes a time on the wire: ISO 8601 in UTC, milliseconds.</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string FormatTimestamp(DateTime utc) => utc.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTimestampShape();
}

using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using Rooms.Domain;

namespace Rooms.Application.Common;

/// <summary>Character and format rules of docs/protocol.md shared by the validators.</summary>
public static partial class FieldRules
{
    public const string IdentifyFirst = "Identify first: send {\"device_id\":...,\"identity\":...} before anything else";

    private static readonly SearchValues<char> DeviceIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:");

    public static bool IsDeviceId(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.DeviceIdMaxLength } && !value.AsSpan().ContainsAnyExcept(DeviceIdChars);

    /// <summary>A message id on the wire: digits only (at most 18, so it fits a long).</summary>
    public static bool IsMessageId(string? value) =>
        value is { Length: > 0 and <= 18 } && !value.AsSpan().ContainsAnyExceptInRange('0', '9');

    /// <summary>No control characters and no invisible formatting ones (Rooms.Domain.VisibleText).</summary>
    public static bool IsVisibleText(string? value) => VisibleText.IsValid(value);

    /// <summary>An ISO-8601 date-time (the shapes JavaScript's toISOString and Python's isoformat write) that is a real instant.</summary>
    public static bool IsIsoTimestamp(string? value) =>
        value is { Length: <= ProtocolLimits.TimestampMaxLength }
        && IsoTimestampShape().IsMatch(value)
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    /// <summary>How the server writes a timestamp: UTC, milliseconds, Z.</summary>
    /// <summary>How the server writes a time on the wire: ISO 8601 in UTC, milliseconds.</summary>
    public const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string FormatTimestamp(DateTime utc) => utc.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTimestampShape();
}

using System.Globalization;
using System.Text.RegularExpressions;
using Rooms.Domain;

namespace Rooms.Application.Common;

/// <summary>Character and format rules of PROTOCOL.md shared by the validators.</summary>
public static partial class FieldRules
{
    public const string IdentifyFirst = "Identify first: send {\"device_id\":...,\"identity\":...} before anything else";

    public static bool IsDeviceId(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.DeviceIdMaxLength } && value.All(IsDeviceIdChar);

    public static bool HasNoControlCharacters(string? value) => value is null || !value.Any(char.IsControl);

    /// <summary>An ISO-8601 date-time (the shapes JavaScript's toISOString and Python's isoformat write) that is a real instant.</summary>
    public static bool IsIsoTimestamp(string? value) =>
        value is { Length: <= ProtocolLimits.TimestampMaxLength }
        && IsoTimestampShape().IsMatch(value)
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    /// <summary>How the server writes a timestamp: UTC, milliseconds, Z.</summary>
    public static string FormatTimestamp(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static bool IsDeviceIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':';

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTimestampShape();
}

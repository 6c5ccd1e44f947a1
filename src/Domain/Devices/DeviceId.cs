using System.Buffers;

namespace Rooms.Domain.Devices;

/// <summary>
/// A device's <c>device_id</c> (docs/protocol.md, "Identify"): 1-64 characters of A-Z a-z 0-9 _ - . : (the seed's rule).
/// Only a valid one exists: requests carry the wire's strings, and past their validator the ids are these.
/// </summary>
public readonly record struct DeviceId
{
    public const int MaxLength = 64;

    public const string Rule = "1-64 characters of A-Z a-z 0-9 _ - . :";

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:");

    /// <exception cref="ArgumentException">Not a valid device id.</exception>
    public DeviceId(string value)
    {
        if (!IsValid(value))
        {
            throw new ArgumentException($"Not a device id ({Rule}): '{value}'", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>The device id of a column that may be NULL (a broadcast has no target).</summary>
    public static DeviceId? FromNullable(string? value) => value is null ? null : new DeviceId(value);

    public override string ToString() => Value;
}

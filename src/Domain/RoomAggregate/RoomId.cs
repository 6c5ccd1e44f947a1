using System.Buffers;
using System.Security.Cryptography;

namespace Rooms.Domain.RoomAggregate;

/// <summary>
/// A room's <c>room_id</c> (docs/protocol.md, "Identify"): 1-32 characters of A-Z a-z 0-9 _ -, case-sensitive. Only a
/// valid one exists: requests carry the wire's strings, and past their validator the ids are these.
/// </summary>
public readonly record struct RoomId
{
    public const int MaxLength = 32;

    public const string Rule = "1-32 characters of A-Z a-z 0-9 _ -";

    /// <summary>The length of a generated id unless configured (the seed's).</summary>
    public const int GeneratedLength = 6;

    public const int MinGeneratedLength = 4;

    private const string GeneratedAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <exception cref="ArgumentException">Not a valid room id.</exception>
    public RoomId(string value)
    {
        if (!IsValid(value))
        {
            throw new ArgumentException($"Not a room id ({Rule}): '{value}'", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>
    /// A fresh candidate id of <paramref name="length"/> characters of A-Z0-9 (36^length ids: 6, the seed's length, is
    /// 2.2 x 10^9; without device tokens the id is a room's only secret, and 10 is 3.7 x 10^15). Uniqueness is the room
    /// store's job (its primary key).
    /// </summary>
    public static RoomId NewCandidate(int length = GeneratedLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, MinGeneratedLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        return new RoomId(RandomNumberGenerator.GetString(GeneratedAlphabet, length));
    }

    /// <summary>The room id of a column that may be NULL (a device's last room before its first identify).</summary>
    public static RoomId? FromNullable(string? value) => value is null ? null : new RoomId(value);

    public override string ToString() => Value;
}

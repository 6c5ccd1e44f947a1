using System.Buffers;
using System.Security.Cryptography;

namespace Rooms.Domain.RoomAggregate;

public static class RoomId
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>
    /// A fresh candidate id of <paramref name="length"/> characters of A-Z0-9 (36^length ids: 6, the seed's length, is
    /// 2.2 x 10^9; without device tokens the id is a room's only secret, and 10 is 3.7 x 10^15). Uniqueness is the room
    /// store's job (its primary key).
    /// </summary>
    public static string NewCandidate(int length = ProtocolLimits.GeneratedRoomIdLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, ProtocolLimits.MinGeneratedRoomIdLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, ProtocolLimits.RoomIdMaxLength);
        return RandomNumberGenerator.GetString(Alphabet, length);
    }

    private static readonly SearchValues<char> RoomIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.RoomIdMaxLength } && !value.AsSpan().ContainsAnyExcept(RoomIdChars);
}

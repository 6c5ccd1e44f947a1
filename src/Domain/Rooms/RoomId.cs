using System.Buffers;
using System.Security.Cryptography;

namespace Rooms.Domain.Rooms;

public static class RoomId
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>A fresh candidate id: 6 characters of A-Z0-9. Uniqueness is the room store's job (its primary key).</summary>
    public static string NewCandidate() =>
        RandomNumberGenerator.GetString(Alphabet, ProtocolLimits.GeneratedRoomIdLength);

    private static readonly SearchValues<char> RoomIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.RoomIdMaxLength } && !value.AsSpan().ContainsAnyExcept(RoomIdChars);
}

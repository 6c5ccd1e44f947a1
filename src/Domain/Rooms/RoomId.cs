using System.Security.Cryptography;

namespace Rooms.Domain.Rooms;

public static class RoomId
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>A fresh candidate id: 6 characters of A-Z0-9. Uniqueness is the room store's job (its primary key).</summary>
    public static string NewCandidate() =>
        RandomNumberGenerator.GetString(Alphabet, ProtocolLimits.GeneratedRoomIdLength);

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.RoomIdMaxLength } && value.All(IsRoomIdChar);

    private static bool IsRoomIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
}

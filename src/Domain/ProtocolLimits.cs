namespace Rooms.Domain;

/// <summary>
/// Field limits of the wire protocol. Validators and the database schema both read these,
/// so a value that passes validation always fits its column. The ids' rules are their types'
/// (<c>DeviceId</c>, <c>RoomId</c>, <c>MessageId</c>, <c>NodeId</c>).
/// </summary>
public static class ProtocolLimits
{
    public const int IdentityMaxLength = 64;
    public const int ClientMessageIdMaxLength = 64;

    /// <summary>Counted in UTF-16 code units: 16 384 of them are at most 49 152 UTF-8 bytes, which fits a MySQL TEXT (65 535 bytes).</summary>
    public const int DefaultMaxContentLength = 16_384;

    /// <summary>Upper bound of the configurable content limit, kept below what a MySQL TEXT column can hold.</summary>
    public const int MaxContentLengthCeiling = 21_000;

    public const int ClientIpMaxLength = 45;
    public const int TimestampMaxLength = 64;

    /// <summary>
    /// No frame the server sends is larger: every shipped client library reads it, and so does a client on Python's
    /// <c>websockets</c> with its default <c>max_size</c> (1 MiB). History pages and presence diffs are cut to fit.
    /// </summary>
    public const int MaxServerFrameBytes = 1024 * 1024;
}

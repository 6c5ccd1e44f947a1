namespace Rooms.Infrastructure.Persistence.Rows;

// Storage shapes of PROTOCOL.md's five tables. They are plain rows, kept apart from the Domain
// aggregates so that the schema can change without touching the rules, and the other way round.

public sealed class RoomRow
{
    public required string RoomId { get; set; }

    public DateTime CreatedAt { get; set; }
}

public sealed class DeviceRow
{
    public required string DeviceId { get; set; }

    public required string Identity { get; set; }

    public DateTime LastConnectedAt { get; set; }

    public string? LastRoomId { get; set; }
}

public sealed class ConnectionRow
{
    public long Id { get; set; }

    public required string DeviceId { get; set; }

    public required string RoomId { get; set; }

    public required string ClientIp { get; set; }

    public DateTime ConnectedAt { get; set; }

    public DateTime? DisconnectedAt { get; set; }
}

public sealed class MessageRow
{
    public long Id { get; set; }

    public required string RoomId { get; set; }

    public required string FromDeviceId { get; set; }

    public string? ToDeviceId { get; set; }

    /// <summary><c>broadcast</c> or <c>direct</c> (an ENUM on MySQL).</summary>
    public required string MessageType { get; set; }

    public required string MessageContent { get; set; }

    public DateTime SentAt { get; set; }
}

public sealed class RoomQueryRow
{
    public long Id { get; set; }

    public required string DeviceId { get; set; }

    public required string RoomId { get; set; }

    public DateTime QueriedAt { get; set; }
}

namespace Rooms.Infrastructure.Persistence.Rows;

// Storage shapes of the tables (README, "Storage"; docs/protocol.md). They are plain rows, kept apart from the Domain
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

    /// <summary>The node that held the connection; empty for rows written before nodes were recorded.</summary>
    public string NodeId { get; set; } = string.Empty;

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

/// <summary>A server process that has run against this database, and when it last said it was alive.</summary>
public sealed class NodeRow
{
    public required string NodeId { get; set; }

    /// <summary>
    /// New at every start of the node: the holder of the node id's lease, which lasts while <see cref="LastSeenAt"/>
    /// keeps moving. Empty once the node stopped cleanly (the lease is released).
    /// </summary>
    public required string Incarnation { get; set; }

    /// <summary>What the node shares the database with (<c>Nodes.ClusterSettings.Membership</c>): its Redis key space, <c>single</c> or <c>apart</c>.</summary>
    public string Cluster { get; set; } = string.Empty;

    public DateTime StartedAt { get; set; }

    public DateTime LastSeenAt { get; set; }

    /// <summary>The holder's lease term (its <c>Cluster:NodeTimeout</c>): silent this long, it is dead. 0 in rows from before leases.</summary>
    public int LeaseMilliseconds { get; set; }
}

/// <summary>
/// A message sent with a client id (it asked for an ack): the key that recognizes a resend, kept for
/// <c>Database:ClientMessageIdWindow</c>. The primary key is what detects the repeat.
/// </summary>
public sealed class ClientMessageIdRow
{
    public required string DeviceId { get; set; }

    public required string ClientMessageId { get; set; }

    public long MessageId { get; set; }

    /// <summary>How many devices the message was addressed to, for the repeated ack.</summary>
    public int Recipients { get; set; }

    public DateTime SentAt { get; set; }
}

/// <summary>
/// The last message id handed out. Message writers take the row's lock inside their transaction, so
/// ids are assigned in commit order, contiguously per batch, however many nodes write at once.
/// </summary>
public sealed class MessageSequenceRow
{
    public const string MessagesName = "messages";

    public required string Name { get; set; }

    public long LastId { get; set; }
}

namespace Rooms.Client;

/// <summary>connecting, connected, reconnecting, closed (idle before <see cref="RoomsClient.ConnectAsync"/>).</summary>
public enum RoomsState
{
    Idle,
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

/// <summary>What identify answered.</summary>
public sealed record RoomJoin(string RoomId, string Status);

/// <summary>A stored message: its id and how many devices it was addressed to.</summary>
public sealed record SendAck(string MessageId, int Recipients);

/// <summary>Who is in the room: the exact total, and the members the server listed (device id to identity; capped in a big room).</summary>
public sealed record RoomInfo(int TotalClients, IReadOnlyDictionary<string, string> Clients);

/// <summary>A page of history, oldest first.</summary>
public sealed record HistoryPage(IReadOnlyList<RoomMessage> Messages, bool HasMore);

/// <summary>One page: <see cref="Before"/>, <see cref="After"/> or <see cref="Latest"/>, and a limit of 1-500.</summary>
public sealed record HistoryQuery(string? Before = null, string? After = null, bool Latest = false, int Limit = 100);

/// <summary>Everything the client reports, in order, through <see cref="RoomsClient.Events"/>.</summary>
public abstract record RoomsEvent;

/// <summary>A message of the room, delivered once, in <see cref="MessageId"/> order.</summary>
public sealed record RoomMessage(string MessageId, string Content, string From, string Type, string Timestamp) : RoomsEvent;

/// <summary>Devices that joined and left (device id to identity).</summary>
public sealed record PresenceChanged(IReadOnlyDictionary<string, string> Joins, IReadOnlyDictionary<string, string> Leaves) : RoomsEvent
{
    /// <summary>Prints the devices (<c>Joins = { phone-1: Ana }</c>), not the dictionaries' type names.</summary>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Append("Joins = { ").AppendJoin(", ", Joins.Select(j => $"{j.Key}: {j.Value}"))
            .Append(" }, Leaves = { ").AppendJoin(", ", Leaves.Select(l => $"{l.Key}: {l.Value}")).Append(" }");
        return true;
    }
}

/// <summary>The connection's state changed; <see cref="Reason"/> says why it closed (replaced, unauthorized, room_not_found).</summary>
public sealed record StateChanged(RoomsState State, string? Reason) : RoomsEvent;

/// <summary>The ack of a message an earlier client with the same store sent (its SendAsync is gone).</summary>
public sealed record Acked(string Id, string MessageId, int Recipients) : RoomsEvent;

/// <summary>A device of the room is typing.</summary>
public sealed record Typing(string DeviceId, string Identity) : RoomsEvent;

/// <summary>Something failed that no call is waiting for.</summary>
public sealed record ClientError(Exception Error) : RoomsEvent;

/// <summary>The server refused something; <see cref="Id"/> is the client message id when it refused a send.</summary>
public sealed class RoomsException : Exception
{
    public RoomsException()
    {
    }

    public RoomsException(string message)
        : base(message)
    {
    }

    public RoomsException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public RoomsException(string message, string? id)
        : base(message) => Id = id;

    public string? Id { get; }
}

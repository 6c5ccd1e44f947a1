namespace Rooms.Domain.RoomAggregate;

/// <summary>
/// A device present in a room through one live connection, on one node. <paramref name="Generation"/>
/// is the id of the connection's <c>connections</c> row: the database hands them out in increasing
/// order, on every node, and keeps them across Redis restarts, so it fences replacement.
/// </summary>
public sealed record RoomMember(string DeviceId, string Identity, long Generation, string NodeId)
{
    /// <summary>Of two connections of one device, the newer one (higher generation) is the one that stays.</summary>
    public bool Supersedes(RoomMember other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return DeviceId == other.DeviceId && Generation > other.Generation;
    }
}

using Rooms.Domain.Rooms;

namespace Rooms.Application.Ports;

/// <summary>
/// Who is connected, in which room, right now — on this node alone, or across every node of a
/// cluster (Redis). Answers are snapshots: nothing returned changes under the caller.
/// </summary>
public interface IPresence
{
    /// <summary>
    /// Puts the member in the room. The device's older member, wherever it is (this room or
    /// another, this node or another), is removed and returned so its connection can be closed.
    /// </summary>
    ValueTask<PresenceJoin> JoinAsync(string roomId, RoomMember member, CancellationToken cancellationToken);

    /// <summary>Removes exactly this membership; a newer one of the same device stays.</summary>
    /// <returns>Whether the member was in the room until now (false when a newer connection had replaced it).</returns>
    ValueTask<bool> LeaveAsync(string roomId, RoomMember member, CancellationToken cancellationToken);

    /// <summary>Everyone in the room, on every node.</summary>
    ValueTask<IReadOnlyList<RoomMember>> MembersAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>The device's member in the room, on any node, or null.</summary>
    ValueTask<RoomMember?> FindAsync(string roomId, string deviceId, CancellationToken cancellationToken);

    /// <summary>Occupied rooms of this node and their local members, for the status log.</summary>
    IReadOnlyDictionary<string, IReadOnlyList<RoomMember>> LocalRooms();

    /// <summary>Every room with a live member, on every node (for operators: it may scan).</summary>
    ValueTask<IReadOnlyList<string>> OccupiedRoomsAsync(CancellationToken cancellationToken);
}

/// <param name="Replaced">The device's older member, now removed; null when there was none.</param>
/// <param name="ReplacedRoomId">The room <paramref name="Replaced"/> was in.</param>
/// <param name="Superseded">
/// A newer connection of the device joined first (two connects racing on two nodes): the joining
/// member was not added, and its own connection is the one to close.
/// </param>
public readonly record struct PresenceJoin(RoomMember? Replaced, string? ReplacedRoomId, bool Superseded)
{
    public static PresenceJoin Added(RoomMember? replaced, string? replacedRoomId) => new(replaced, replacedRoomId, false);

    public static readonly PresenceJoin Stale = new(null, null, true);
}

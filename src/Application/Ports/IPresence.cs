using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>
/// Every node's members of every room, in a store the nodes share (Redis), with expiry: a node refreshes
/// its members, and a dead node's vanish by themselves. A plain store: it tells nobody anything. A node
/// alone has no shared presence (its hub is the whole truth), and every answer is null: not known here.
/// Null also means the store could not be asked (Redis is down).
/// </summary>
public interface IPresence
{
    /// <summary>
    /// Puts the member in the room, or refreshes it. The device's older member, wherever it is (this room or
    /// another, this node or another), is removed and returned so its connection can be closed.
    /// </summary>
    ValueTask<PresenceJoin?> JoinAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken);

    /// <summary>Removes exactly this membership; a newer one of the same device stays.</summary>
    /// <returns>Whether the member was in the room until now (false when a newer connection had replaced it).</returns>
    ValueTask<bool?> LeaveAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken);

    /// <summary>Everyone in the room, on every node, but the members that expired.</summary>
    ValueTask<IReadOnlyList<RoomMember>?> MembersAsync(RoomId roomId, CancellationToken cancellationToken);

    /// <summary>The device's member in the room, on any node, or null.</summary>
    ValueTask<RoomMember?> FindAsync(RoomId roomId, DeviceId deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the room's members that expired (their node stopped refreshing them) and returns them. Each
    /// expired member is returned to exactly one caller, so the room hears once that it left.
    /// </summary>
    ValueTask<IReadOnlyList<RoomMember>> PruneExpiredAsync(RoomId roomId, CancellationToken cancellationToken);

    /// <summary>Every room with a member in the store (for operators: it may scan).</summary>
    ValueTask<IReadOnlyList<RoomId>> RoomsAsync(CancellationToken cancellationToken);
}

/// <param name="Replaced">The device's older member, now removed; null when there was none.</param>
/// <param name="ReplacedRoomId">The room <paramref name="Replaced"/> was in.</param>
/// <param name="Superseded">
/// A newer connection of the device joined first (two connects racing, on one node or two): the joining
/// member was not added, and its own connection is the one to close.
/// </param>
public readonly record struct PresenceJoin(RoomMember? Replaced, RoomId? ReplacedRoomId, bool Superseded)
{
    public static PresenceJoin Added(RoomMember? replaced, RoomId? replacedRoomId) => new(replaced, replacedRoomId, false);

    public static readonly PresenceJoin Stale = new(null, null, true);
}

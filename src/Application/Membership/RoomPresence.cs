using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Membership;

/// <summary>
/// Who is in a room, and what the room hears about it. This node's members come from the hub (certain, no
/// round trip, and all there is while the shared store is down); every node's from the shared presence
/// (Redis on a cluster, nothing on a single node). The one place that sends <c>joined</c> and <c>left</c>.
/// </summary>
public sealed class RoomPresence(IRoomHub hub, IPresence shared, PresenceBatcher batcher, ProtocolSettings settings)
{
    /// <summary>
    /// Joins on this node, listening to the room, then in the shared presence: the other nodes can see the
    /// member only once whatever they send it reaches it. Nobody is told yet (see <see cref="Announce"/>).
    /// </summary>
    public async Task<PresenceJoin> JoinAsync(ClientSession session, RoomId roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        var (local, listening) = await hub.JoinAsync(session, roomId, member, cancellationToken);

        // Not listening (the bus is down): the presence refresh registers the member once it listens.
        if (local.Superseded || !listening || await shared.JoinAsync(roomId, member, cancellationToken) is not { } joined)
        {
            return local;
        }

        // The shared store knows the device's older member on any node; this node only its own.
        return joined.Superseded || joined.Replaced is not null ? joined : local;
    }

    /// <summary>Queues the reply, then the session receives its room's deliveries.</summary>
    public Task AttachAsync(ClientSession session, RoomAssignedDto reply, CancellationToken cancellationToken) =>
        hub.AttachAsync(session, reply, cancellationToken);

    /// <summary>
    /// Closes the device's older connection. The room hears <c>joined</c> unless the device was already in it (a
    /// reconnect into the same room changes nothing for the others); a room it moved out of hears <c>left</c>.
    /// </summary>
    public void Announce(RoomMember member, RoomId roomId, PresenceJoin join)
    {
        ArgumentNullException.ThrowIfNull(member);
        RoomId? movedFrom = join.Replaced is not null && join.ReplacedRoomId != roomId ? join.ReplacedRoomId : null;
        if (join.Replaced is { } replaced)
        {
            hub.CloseReplaced(replaced);
        }

        if (movedFrom is { } left)
        {
            AnnounceLeft(left, join.Replaced!);
        }

        if ((join.Replaced is null || movedFrom is not null) && settings.PresenceEvents)
        {
            batcher.Add(new PresenceChange(roomId, member, Joined: true));
        }
    }

    /// <summary>Tells the room the member left (it closed, moved, or its node stopped refreshing it).</summary>
    public void AnnounceLeft(RoomId roomId, RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (settings.PresenceEvents)
        {
            batcher.Add(new PresenceChange(roomId, member, Joined: false));
        }
    }

    /// <summary>Sends the room's presence changes that wait for the end of their window now.</summary>
    public void SendPendingChanges(RoomId roomId) => batcher.FlushRoom(roomId);

    /// <summary>Closes the connection of a member a newer connection of its device replaced (4001), on whichever node holds it.</summary>
    public void CloseReplaced(RoomMember member) => hub.CloseReplaced(member);

    /// <summary>
    /// The session's member leaves its room; the room hears <c>left</c> unless a newer connection had replaced
    /// it (its device did not leave).
    /// </summary>
    /// <returns>Whether the member was in the room until now.</returns>
    public async Task<bool> LeaveAsync(ClientSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var (roomId, member) = (session.RoomId, session.IdentifiedMember);
        var leftHere = hub.Leave(session);
        var left = await shared.LeaveAsync(roomId, member, cancellationToken) ?? leftHere;
        if (left)
        {
            AnnounceLeft(roomId, member);
        }

        return left;
    }

    /// <summary>Everyone in the room, on every node, oldest connection first.</summary>
    public async Task<IReadOnlyList<RoomMember>> MembersAsync(RoomId roomId, CancellationToken cancellationToken)
    {
        var local = hub.Members(roomId);
        if (await shared.MembersAsync(roomId, cancellationToken) is not { } everywhere)
        {
            return local;
        }

        var members = everywhere.ToDictionary(m => m.DeviceId);

        // This node's own members are certain, whether or not the store has caught up with them (unless it knows a newer connection).
        foreach (var member in local)
        {
            if (!members.TryGetValue(member.DeviceId, out var known) || !known.ConnectionId.IsNewerThan(member.ConnectionId))
            {
                members[member.DeviceId] = member;
            }
        }

        return [.. members.Values.OrderBy(m => m.ConnectionId)];
    }

    /// <summary>How many devices of the room, on every node, are not <paramref name="deviceId"/>: who a broadcast or an event from it reaches.</summary>
    public async Task<int> CountOthersAsync(RoomId roomId, DeviceId deviceId, CancellationToken cancellationToken)
    {
        var others = 0;
        foreach (var member in await MembersAsync(roomId, cancellationToken))
        {
            if (member.DeviceId != deviceId)
            {
                others++;
            }
        }

        return others;
    }

    /// <summary>The device's member in the room, on any node, or null.</summary>
    public async Task<RoomMember?> FindAsync(RoomId roomId, DeviceId deviceId, CancellationToken cancellationToken) =>
        hub.Find(roomId, deviceId) ?? await shared.FindAsync(roomId, deviceId, cancellationToken);

    /// <summary>Every room with a member, on any node (for operators: it may scan).</summary>
    public async Task<IReadOnlyList<RoomId>> OccupiedRoomsAsync(CancellationToken cancellationToken)
    {
        var rooms = new HashSet<RoomId>(hub.Rooms().Keys);
        rooms.UnionWith(await shared.RoomsAsync(cancellationToken));
        var occupied = new List<RoomId>();
        foreach (var room in rooms)
        {
            if ((await MembersAsync(room, cancellationToken)).Count > 0)
            {
                occupied.Add(room);
            }
        }

        return occupied;
    }
}

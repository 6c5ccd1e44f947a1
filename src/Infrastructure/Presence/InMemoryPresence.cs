using System.Collections.Concurrent;
using Rooms.Application.Ports;
using Rooms.Domain.Rooms;

namespace Rooms.Infrastructure.Presence;

/// <summary>
/// Presence of this node: the whole truth on a single node, and the local part of a cluster's
/// presence (<see cref="RedisPresence"/>). Reads are lock-free; joins and leaves (rare by
/// comparison) take one lock so the room map and the device map never disagree.
/// </summary>
public sealed class InMemoryPresence : IPresence
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string RoomId, RoomMember Member)> _devices = new(StringComparer.Ordinal);

    public ValueTask<PresenceJoin> JoinAsync(string roomId, RoomMember member, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Join(roomId, member));

    public ValueTask<bool> LeaveAsync(string roomId, RoomMember member, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Leave(roomId, member).Removed);

    public ValueTask<IReadOnlyList<RoomMember>> MembersAsync(string roomId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Members(roomId));

    public ValueTask<RoomMember?> FindAsync(string roomId, string deviceId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Find(roomId, deviceId));

    public ValueTask<IReadOnlyList<string>> OccupiedRoomsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>([.. _rooms.Where(r => r.Value.Members.Count > 0).Select(r => r.Key)]);

    public IReadOnlyDictionary<string, IReadOnlyList<RoomMember>> LocalRooms() =>
        _rooms.ToDictionary(r => r.Key, r => r.Value.Members, StringComparer.Ordinal);

    public PresenceJoin Join(string roomId, RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_gate)
        {
            RoomMember? replaced = null;
            string? replacedRoomId = null;
            if (_devices.TryGetValue(member.DeviceId, out var previous))
            {
                if (!member.Supersedes(previous.Member))
                {
                    return PresenceJoin.Stale;
                }

                RemoveFromRoom(previous.RoomId, previous.Member);
                (replaced, replacedRoomId) = (previous.Member, previous.RoomId);
            }

            var room = _rooms.GetOrAdd(roomId, id => new Room(id));
            room.Join(member);
            _devices[member.DeviceId] = (roomId, member);
            return PresenceJoin.Added(replaced, replacedRoomId);
        }
    }

    /// <returns>Whether the member was here until now, and whether the room has no member left on this node.</returns>
    public (bool Removed, bool RoomEmpty) Leave(string roomId, RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_gate)
        {
            var removed = _devices.TryGetValue(member.DeviceId, out var current) && current.Member == member;
            if (removed)
            {
                _devices.Remove(member.DeviceId);
            }

            return (removed, RemoveFromRoom(roomId, member));
        }
    }

    public IReadOnlyList<RoomMember> Members(string roomId) =>
        _rooms.TryGetValue(roomId, out var room) ? room.Members : [];

    public RoomMember? Find(string roomId, string deviceId) =>
        _rooms.TryGetValue(roomId, out var room) ? room.FindMember(deviceId) : null;

    /// <summary>Every local member with its room (refreshing a shared presence).</summary>
    public IReadOnlyList<(string RoomId, RoomMember Member)> AllMembers()
    {
        lock (_gate)
        {
            return [.. _devices.Values];
        }
    }

    private bool RemoveFromRoom(string roomId, RoomMember member)
    {
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            return true;
        }

        room.Leave(member);
        if (room.IsEmpty)
        {
            _rooms.TryRemove(roomId, out _);
            return true;
        }

        return false;
    }
}

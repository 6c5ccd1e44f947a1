using System.Collections.Concurrent;
using Rooms.Application.Ports;
using Rooms.Domain.Rooms;

namespace Rooms.Infrastructure.Presence;

/// <summary>
/// Presence of this node. Reads (every message) are lock-free; joins and leaves (rare by
/// comparison) take one lock so the room map and the device map never disagree.
/// </summary>
public sealed class InMemoryPresence : IPresence
{
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string RoomId, RoomMember Member)> _devices = new(StringComparer.Ordinal);

    public RoomMember? Join(string roomId, RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_gate)
        {
            RoomMember? replaced = null;
            if (_devices.TryGetValue(member.DeviceId, out var previous))
            {
                RemoveFromRoom(previous.RoomId, previous.Member);
                replaced = previous.Member;
            }

            _rooms.GetOrAdd(roomId, id => new Room(id)).Join(member);
            _devices[member.DeviceId] = (roomId, member);
            return replaced;
        }
    }

    public void Leave(string roomId, RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        lock (_gate)
        {
            RemoveFromRoom(roomId, member);
            if (_devices.TryGetValue(member.DeviceId, out var current) && current.Member == member)
            {
                _devices.Remove(member.DeviceId);
            }
        }
    }

    public Room? FindRoom(string roomId) => _rooms.GetValueOrDefault(roomId);

    public IReadOnlyList<Room> OccupiedRooms() => [.. _rooms.Values];

    private void RemoveFromRoom(string roomId, RoomMember member)
    {
        if (_rooms.TryGetValue(roomId, out var room) && room.Leave(member) && room.IsEmpty)
        {
            _rooms.TryRemove(roomId, out _);
        }
    }
}

using Rooms.Domain.Rooms;

namespace Rooms.Application.Ports;

/// <summary>
/// Who is connected, in which room, right now. Node-local today; a shared implementation
/// (e.g. Redis) can stand behind the same port when rooms span several nodes.
/// </summary>
public interface IPresence
{
    /// <summary>Puts the member in the room. A member of the same device elsewhere is removed and returned, so its connection can be closed.</summary>
    RoomMember? Join(string roomId, RoomMember member);

    /// <summary>Removes exactly this membership; a newer one of the same device stays.</summary>
    void Leave(string roomId, RoomMember member);

    /// <summary>The live room, or null when nobody is in it.</summary>
    Room? FindRoom(string roomId);

    /// <summary>Occupied rooms and their members, for the status log.</summary>
    IReadOnlyList<Room> OccupiedRooms();
}

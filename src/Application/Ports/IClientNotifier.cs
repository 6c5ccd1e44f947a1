using Rooms.Application.Contracts;
using Rooms.Application.Sessions;
using Rooms.Domain.Rooms;

namespace Rooms.Application.Ports;

/// <summary>
/// Puts frames into connections' send queues. Handlers reply through it (not through their
/// return value) so that a reply is queued before anything the room sends the client afterwards.
/// </summary>
public interface IClientNotifier
{
    void SendRoomAssigned(ClientSession session, RoomAssignedDto room);

    void SendRoomInfo(ClientSession session, RoomInfoDto roomInfo);

    /// <summary>Serializes the message once and queues it for each recipient; returns how many queues took it.</summary>
    int Forward(IReadOnlyList<RoomMember> recipients, DeliveredMessageDto message);

    /// <summary>Closes the connection of a member that a newer connection of the same device replaced (status 4001).</summary>
    void CloseReplaced(RoomMember replaced);
}

using Rooms.Application.Contracts;
using Rooms.Application.Sessions;
using Rooms.Domain.Rooms;

namespace Rooms.Application.Ports;

/// <summary>
/// Puts frames into connections' send queues. Handlers reply through it (not through their
/// return value) so that a reply is queued before anything the room sends the client afterwards.
/// Deliveries are addressed to a room or a device, never to connections: the room may span nodes.
/// </summary>
public interface IClientNotifier
{
    void SendRoomAssigned(ClientSession session, RoomAssignedDto room);

    void SendRoomInfo(ClientSession session, RoomInfoDto roomInfo);

    /// <summary>Sends the error, then closes the connection with 4003: the client may not act as the device it named.</summary>
    void RefuseUnauthorized(ClientSession session, string error);

    /// <summary>Sends <paramref name="error"/>, then closes the connection with 1008 (policy violation): the client went past a limit.</summary>
    void CloseForAbuse(ClientSession session, string error);

    /// <summary>
    /// From now on a newer connection of the identified session's device can close this one (by its
    /// generation, from any node). Called before the member becomes visible to anyone.
    /// </summary>
    void TrackForReplacement(ClientSession session);

    void SendAck(ClientSession session, AckDto ack);

    void SendHistory(ClientSession session, HistoryDto history);

    /// <summary>
    /// From now on the identified session receives what is sent to its room and to its device: the room's
    /// messages stored from now on, in id order (earlier ones are in its history).
    /// </summary>
    Task AttachAsync(ClientSession session, CancellationToken cancellationToken);

    /// <summary>Tells every member of the room but <paramref name="exceptDeviceId"/>, on every node, that a device joined or left.</summary>
    void SendPresence(string roomId, string exceptDeviceId, PresenceEventDto presenceEvent);

    /// <summary>Sends the message to every member of the room but <paramref name="exceptDeviceId"/>, on every node.</summary>
    /// <returns>How many send queues of this node took it.</returns>
    int SendToRoom(string roomId, string exceptDeviceId, DeliveredMessageDto message);

    /// <summary>Sends the message to the device's connection in the room, on whichever node holds it.</summary>
    /// <returns>How many send queues of this node took it (0 when the device is on another node).</returns>
    int SendToDevice(string roomId, string deviceId, DeliveredMessageDto message);

    /// <summary>Closes the connection behind a member that a newer connection of its device replaced (status 4001), on whichever node holds it.</summary>
    void CloseReplaced(RoomMember replaced);
}

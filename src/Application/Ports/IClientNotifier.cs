using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Ports;

/// <summary>
/// Replies to the session that sent a frame, through its connection's send queue. Handlers reply through it (not
/// through their return value) so that a reply is queued before anything the room sends the client afterwards.
/// Deliveries to rooms and devices go through <see cref="IRoomHub"/>.
/// </summary>
public interface IClientNotifier
{
    void SendRoomAssigned(ClientSession session, RoomAssignedDto room);

    void SendRoomInfo(ClientSession session, RoomInfoDto roomInfo);

    /// <summary>Sends the error, then closes the connection with 4003: the client may not act as the device it named.</summary>
    void RefuseUnauthorized(ClientSession session, string error);

    /// <summary>Sends <paramref name="error"/>, then closes the connection with 1008 (policy violation): the client went past a limit.</summary>
    void CloseForAbuse(ClientSession session, string error);

    void SendAck(ClientSession session, AckDto ack);

    void SendHistory(ClientSession session, HistoryDto history);
}

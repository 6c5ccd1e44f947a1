using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Ports;

/// <summary>
/// What identify sends its client besides the room's traffic: the reply to an identify that found no room, and the
/// refusals that close the connection. Every other reply is its handler's return value, which the host writes
/// (see the protocol table, src/WebSocketHost/Frames/ClientFrames.cs); an identify's room reply is queued by the
/// hub, before the room's traffic.
/// </summary>
public interface IClientNotifier
{
    void SendRoomAssigned(ClientSession session, RoomAssignedDto room);

    /// <summary>Sends the error, then closes the connection with 4003: the client may not act as the device it named.</summary>
    void RefuseUnauthorized(ClientSession session, string error);

    /// <summary>Sends <paramref name="error"/>, then closes the connection with 1008 (policy violation): the client went past a limit.</summary>
    void CloseForAbuse(ClientSession session, string error);
}

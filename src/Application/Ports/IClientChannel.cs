using Rooms.Application.Contracts;

namespace Rooms.Application.Ports;

/// <summary>
/// The connection a session's frames arrive on, as identify reaches it directly: the reply to an identify that found
/// no room, and the refusals that close the connection. Every other reply is its handler's return value, which the
/// host writes (see the protocol table, src/WebSocketHost/Frames/ClientFrames.cs); an identify's room reply and the
/// room's traffic go through the hub.
/// </summary>
public interface IClientChannel
{
    void SendRoomAssigned(RoomAssignedDto room);

    /// <summary>Sends the error, then closes the connection with 4003: the client may not act as the device it named.</summary>
    void RefuseUnauthorized(string error);

    /// <summary>Sends <paramref name="error"/>, then closes the connection with 1008 (policy violation): the client went past a limit.</summary>
    void CloseForAbuse(string error);
}

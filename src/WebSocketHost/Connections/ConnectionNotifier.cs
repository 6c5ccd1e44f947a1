using System.Net.WebSockets;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// What identify sends its client besides the room's traffic (see <see cref="IClientNotifier"/>), through its
/// connection's send queue.
/// </summary>
internal sealed class ConnectionNotifier(ConnectionRegistry registry) : IClientNotifier
{
    public const WebSocketCloseStatus UnauthorizedCloseStatus = (WebSocketCloseStatus)4003;

    public void SendRoomAssigned(ClientSession session, RoomAssignedDto room) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.Room(room));

    public void RefuseUnauthorized(ClientSession session, string error)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (registry.Find(session.Id) is { } connection)
        {
            connection.TrySend(FrameWriter.Error(error));
            connection.RequestClose(UnauthorizedCloseStatus, "Unauthorized");
        }
    }

    public void CloseForAbuse(ClientSession session, string error)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (registry.Find(session.Id) is { } connection)
        {
            connection.TrySend(FrameWriter.Error(error));
            connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Limit exceeded");
        }
    }
}

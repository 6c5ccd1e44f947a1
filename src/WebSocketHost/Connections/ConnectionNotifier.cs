using System.Net.WebSockets;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Replies to the session that sent a frame, through its connection's send queue (deliveries to rooms and
/// devices are the <see cref="RoomHub"/>'s).
/// </summary>
internal sealed class ConnectionNotifier(ConnectionRegistry registry) : IClientNotifier
{
    public const WebSocketCloseStatus UnauthorizedCloseStatus = (WebSocketCloseStatus)4003;

    public void SendRoomAssigned(ClientSession session, RoomAssignedDto room) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.Room(room));

    public void SendRoomInfo(ClientSession session, RoomInfoDto roomInfo) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.RoomInfo(roomInfo));

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

    public void SendAck(ClientSession session, AckDto ack) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.Ack(ack));

    public void SendHistory(ClientSession session, HistoryDto history) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.History(history));
}

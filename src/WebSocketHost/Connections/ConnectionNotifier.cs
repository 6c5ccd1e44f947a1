using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Rooms;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

internal sealed class ConnectionNotifier(ConnectionRegistry registry) : IClientNotifier
{
    /// <summary>Private close code of PROTOCOL.md: a newer connection of the same device took over.</summary>
    public const int ReplacedCloseStatus = 4001;

    public void SendRoomAssigned(ClientSession session, RoomAssignedDto room) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.Room(room));

    public void SendRoomInfo(ClientSession session, RoomInfoDto roomInfo) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.RoomInfo(roomInfo));

    public int Forward(IReadOnlyList<RoomMember> recipients, DeliveredMessageDto message)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        if (recipients.Count == 0)
        {
            return 0;
        }

        ReadOnlyMemory<byte> frame = FrameWriter.Message(message);
        var handedTo = 0;
        for (var i = 0; i < recipients.Count; i++)
        {
            if (registry.Find(recipients[i].SessionId) is { } connection && connection.TrySend(frame))
            {
                handedTo++;
            }
        }

        return handedTo;
    }

    public void CloseReplaced(RoomMember replaced)
    {
        ArgumentNullException.ThrowIfNull(replaced);
        registry.Find(replaced.SessionId)?.RequestClose((System.Net.WebSockets.WebSocketCloseStatus)ReplacedCloseStatus, "replaced");
    }
}

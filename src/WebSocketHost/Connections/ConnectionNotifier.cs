using System.Net.WebSockets;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Rooms;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Delivers to this node's connections directly (no round trip, so local members keep working when
/// Redis is down), then hands the same frame once to the cluster bus for every other node.
/// </summary>
internal sealed class ConnectionNotifier(ConnectionRegistry registry, IClusterBus bus, NodeIdentity node) : IClientNotifier
{
    /// <summary>Private close code of the protocol (docs/protocol.md): a newer connection of the same device took over.</summary>
    public const WebSocketCloseStatus ReplacedCloseStatus = (WebSocketCloseStatus)4001;

    public const WebSocketCloseStatus UnauthorizedCloseStatus = (WebSocketCloseStatus)4003;

    public const string ReplacedReason = "replaced";

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

    public void TrackForReplacement(ClientSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (registry.Find(session.Id) is { } connection)
        {
            registry.TrackGeneration(connection, session.ConnectionRowId);
        }
    }

    public void SendAck(ClientSession session, AckDto ack) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.Ack(ack));

    public void SendHistory(ClientSession session, HistoryDto history) =>
        registry.Find(session.Id)?.TrySend(FrameWriter.History(history));

    public async Task AttachAsync(ClientSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var member = session.Member ?? throw new InvalidOperationException("Only an identified session joins its room.");
        if (registry.Find(session.Id) is { } connection)
        {
            await registry.AttachAsync(connection, new ConnectionMembership(session.RoomId!, member.DeviceId), cancellationToken);
        }
    }

    public void SendPresence(string roomId, string exceptDeviceId, PresenceEventDto presenceEvent)
    {
        ReadOnlyMemory<byte> frame = FrameWriter.Presence(presenceEvent);
        registry.SendToRoom(roomId, exceptDeviceId, frame);
        bus.PublishToRoom(new ClusterEnvelope(EnvelopeKind.ToRoom, roomId, exceptDeviceId, 0, frame));
    }

    public int SendToRoom(string roomId, string exceptDeviceId, DeliveredMessageDto message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ReadOnlyMemory<byte> frame = FrameWriter.Message(message);
        var handedTo = registry.SendToRoom(roomId, exceptDeviceId, frame, message.MessageId, message.PreviousMessageId);
        bus.PublishToRoom(new ClusterEnvelope(EnvelopeKind.ToRoom, roomId, exceptDeviceId, 0, frame, message.MessageId, message.PreviousMessageId));
        return handedTo;
    }

    public int SendToDevice(string roomId, string deviceId, DeliveredMessageDto message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ReadOnlyMemory<byte> frame = FrameWriter.Message(message);
        var handedTo = registry.SendToDevice(roomId, deviceId, frame, message.MessageId, message.PreviousMessageId);

        // Published even when the target is here: every node's delivery order of the room must see every message.
        bus.PublishToRoom(new ClusterEnvelope(EnvelopeKind.ToDevice, roomId, deviceId, 0, frame, message.MessageId, message.PreviousMessageId));
        return handedTo;
    }

    public void CloseReplaced(RoomMember replaced)
    {
        ArgumentNullException.ThrowIfNull(replaced);
        if (replaced.NodeId == node.NodeId)
        {
            registry.CloseGeneration(replaced.Generation, ReplacedCloseStatus, ReplacedReason);
        }
        else
        {
            bus.PublishToNode(replaced.NodeId, new ClusterEnvelope(EnvelopeKind.CloseReplaced, string.Empty, replaced.DeviceId, replaced.Generation, ReadOnlyMemory<byte>.Empty));
        }
    }
}

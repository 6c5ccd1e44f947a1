using System.Collections.Concurrent;
using System.Net.WebSockets;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// This node's rooms, with one owner (after SignalR's RedisHubLifetimeManager and centrifuge's hub): per room,
/// under the room's one lock, its members (the Domain <see cref="Room"/>), the connections receiving it, its
/// delivery order and its channel on the cluster bus (the first member here subscribes, the last unsubscribes).
/// Members and receivers are copy-on-write arrays, so a fan-out reads them without locking. Across rooms: the device's newest member
/// on this node (replacement is decided by connection id, without a lock) and connections by connection id, so a
/// replaced one can be closed from any node. This node's stored messages arrive from the store at their commit
/// (<see cref="ICommitFeed"/>), other nodes' publications from the bus (<see cref="ILocalDelivery"/>).
/// </summary>
internal sealed partial class RoomHub(
    IClusterBus bus, IMessageHistory history, NodeIdentity node, RoomsMetrics metrics, ILogger<RoomHub> logger)
    : IRoomHub, ICommitFeed, ILocalDelivery
{
    /// <summary>Private close code of the protocol (docs/protocol.md): a newer connection of the same device took over.</summary>
    public const WebSocketCloseStatus ReplacedCloseStatus = (WebSocketCloseStatus)4001;

    public const string ReplacedReason = "replaced";

    private readonly ConcurrentDictionary<RoomId, HubRoom> _rooms = new();
    private readonly ConcurrentDictionary<DeviceId, Seat> _devices = new();
    private readonly ConcurrentDictionary<ConnectionId, ClientConnection> _connections = new();

    public async Task<HubJoin> JoinAsync(ClientSession session, RoomId roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(member);
        var connection = ConnectionOf(session);
        connection.ConnectionId = member.ConnectionId;
        _connections[member.ConnectionId] = connection;

        var seat = new Seat(roomId, member);
        if (!TakeSeat(seat, out var replaced))
        {
            return new HubJoin(PresenceJoin.Stale, Listening: true);
        }

        if (replaced is not null)
        {
            Remove(replaced);
        }

        Task<IAsyncDisposable> subscription;
        while (true)
        {
            var room = _rooms.GetOrAdd(roomId, id => new HubRoom(id));
            lock (room.Gate)
            {
                if (room.Closed)
                {
                    continue;
                }

                if (!_devices.TryGetValue(member.DeviceId, out var current) || current != seat)
                {
                    // A newer connection of the device took the seat meanwhile.
                    return new HubJoin(PresenceJoin.Stale, Listening: true);
                }

                room.Live.Join(member);
                subscription = room.Subscription is { IsFaulted: false } subscribed ? subscribed : room.Subscription = bus.SubscribeRoomAsync(roomId, this);
                break;
            }
        }

        return new HubJoin(PresenceJoin.Added(replaced?.Member, replaced?.RoomId), await SucceedsAsync(subscription));
    }

    public async Task AttachAsync(ClientSession session, RoomAssignedDto reply, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var (roomId, member) = (session.RoomId, session.IdentifiedMember);
        var connection = ConnectionOf(session);
        connection.SendRoomAssigned(reply);
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            return;
        }

        // Only the room's first connection here reads the room's last message id to start its order (a reconnect
        // storm of 10 devices per room: one read per room, not one per identify).
        var lastId = room.Order is null ? await LastIdAsync(roomId, cancellationToken) : null;
        lock (room.Gate)
        {
            if (room.Closed || room.Live.FindMember(member.DeviceId) != member)
            {
                // Replaced or superseded meanwhile: it is being closed.
                return;
            }

            room.Order ??= new RoomDeliveryOrder(roomId, lastId, delivery => Fan(room, delivery), FetchBetweenAsync, logger);
            connection.Membership = new ConnectionMembership(roomId, member.DeviceId);
            room.Receivers = [.. room.Receivers, connection];
        }
    }

    public bool Leave(ClientSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Member is not { } member)
        {
            return false;
        }

        var seat = new Seat(session.RoomId, member);
        _connections.TryRemove(member.ConnectionId, out _);
        var wasCurrent = _devices.TryRemove(new KeyValuePair<DeviceId, Seat>(member.DeviceId, seat));
        Remove(seat);
        return wasCurrent;
    }

    public IReadOnlyList<RoomMember> Members(RoomId roomId) => _rooms.TryGetValue(roomId, out var room) ? room.Live.Members : [];

    public RoomMember? Find(RoomId roomId, DeviceId deviceId) => _rooms.TryGetValue(roomId, out var room) ? room.Live.FindMember(deviceId) : null;

    public IReadOnlyDictionary<RoomId, IReadOnlyList<RoomMember>> Rooms() =>
        _rooms.Where(r => !r.Value.Live.IsEmpty).ToDictionary(r => r.Key, r => r.Value.Live.Members);

    public void SendPresence(RoomId roomId, DeviceId exceptDeviceId, PresenceEventDto presenceEvent) =>
        SendUnordered(roomId, exceptDeviceId, FrameWriter.Presence(presenceEvent));

    public void SendPresenceDiff(RoomId roomId, PresenceDiffDto diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        SendUnordered(roomId, null, FrameWriter.PresenceDiff(diff));
    }

    public void SendEvent(RoomId roomId, DeviceId exceptDeviceId, IRoomEvent roomEvent) =>
        SendUnordered(roomId, exceptDeviceId, FrameWriter.Event(roomEvent));

    /// <summary>
    /// A message this node stored, right at its commit (on the store's writer, in id order): serialized once, to
    /// this node's recipients in the room's id order, and once to the bus for the other nodes. A direct message
    /// is published to the room too, even when its target is here: every node's order of the room must see it.
    /// </summary>
    public void Committed(NewMessage message, StoredMessage stored)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(stored);
        ReadOnlyMemory<byte> frame = FrameWriter.Message(message, stored.Id);
        var direct = message.ToDeviceId is not null;
        var deviceId = message.ToDeviceId ?? message.FromDeviceId;
        var handedTo = Offer(message.RoomId, new OrderedDelivery(stored.Id, stored.PreviousIdInRoom, frame, deviceId, ToDeviceOnly: direct));
        bus.PublishToRoom(new ClusterEnvelope(
            direct ? EnvelopeKind.ToDevice : EnvelopeKind.ToRoom, message.RoomId, deviceId, ConnectionId.None, frame, stored.Id, stored.PreviousIdInRoom));
        metrics.MessageForwarded(message.Type.ToName(), handedTo);
    }

    public void CloseReplaced(RoomMember replaced)
    {
        ArgumentNullException.ThrowIfNull(replaced);
        if (replaced.NodeId == node.NodeId)
        {
            CloseConnection(replaced.ConnectionId);
        }
        else
        {
            bus.PublishToNode(replaced.NodeId, new ClusterEnvelope(EnvelopeKind.CloseReplaced, null, replaced.DeviceId, replaced.ConnectionId, ReadOnlyMemory<byte>.Empty));
        }
    }

    public async Task ResubscribeAsync()
    {
        await bus.SubscribeNodeAsync(this);
        var pending = new List<Task<IAsyncDisposable>>();
        foreach (var room in _rooms.Values)
        {
            lock (room.Gate)
            {
                if (!room.Closed && room.Subscription is { IsFaulted: true })
                {
                    room.Subscription = bus.SubscribeRoomAsync(room.Id, this);
                    pending.Add(room.Subscription);
                }
            }
        }

        foreach (var subscription in pending)
        {
            await SucceedsAsync(subscription);
        }
    }

    public void Deliver(ClusterEnvelope envelope)
    {
        switch (envelope.Kind)
        {
            case EnvelopeKind.ToRoom or EnvelopeKind.ToDevice:
                Offer(envelope.RoomId!.Value, new OrderedDelivery(envelope.MessageId, envelope.PreviousMessageId, envelope.Frame, envelope.DeviceId, envelope.Kind == EnvelopeKind.ToDevice));
                break;
            case EnvelopeKind.CloseReplaced:
                CloseConnection(envelope.Connection);
                break;
        }
    }

    /// <summary>A frame that is not a stored message: to this node's members of the room at once, and to the other nodes.</summary>
    private void SendUnordered(RoomId roomId, DeviceId? exceptDeviceId, ReadOnlyMemory<byte> frame)
    {
        if (_rooms.TryGetValue(roomId, out var room))
        {
            Fan(room, new OrderedDelivery(MessageId.None, MessageId.None, frame, exceptDeviceId, ToDeviceOnly: false));
        }

        bus.PublishToRoom(new ClusterEnvelope(EnvelopeKind.ToRoom, roomId, exceptDeviceId, ConnectionId.None, frame));
    }

    /// <summary>
    /// The device's seat on this node goes to <paramref name="seat"/> unless a newer connection holds it;
    /// <paramref name="replaced"/> is the older one it took over.
    /// </summary>
    private bool TakeSeat(Seat seat, out Seat? replaced)
    {
        while (true)
        {
            if (_devices.TryGetValue(seat.Member.DeviceId, out var current))
            {
                if (!seat.Member.Supersedes(current.Member))
                {
                    replaced = null;
                    return false;
                }

                if (_devices.TryUpdate(seat.Member.DeviceId, seat, current))
                {
                    replaced = current;
                    return true;
                }
            }
            else if (_devices.TryAdd(seat.Member.DeviceId, seat))
            {
                replaced = null;
                return true;
            }
        }
    }

    /// <summary>Takes the member and its connection out of the room; the room's last member here lets its channel go.</summary>
    private void Remove(Seat seat)
    {
        if (!_rooms.TryGetValue(seat.RoomId, out var room))
        {
            return;
        }

        Task<IAsyncDisposable>? released = null;
        lock (room.Gate)
        {
            room.Live.Leave(seat.Member);
            room.Receivers = Array.FindAll(room.Receivers, c => c.ConnectionId != seat.Member.ConnectionId);
            if (room.Live.IsEmpty && room.Receivers.Length == 0 && !room.Closed)
            {
                room.Closed = true;
                _rooms.TryRemove(new KeyValuePair<RoomId, HubRoom>(seat.RoomId, room));
                released = room.Subscription;
            }
        }

        if (released is not null)
        {
            _ = UnsubscribeAsync(released);
        }
    }

    /// <returns>How many of this node's connections it is for.</returns>
    private int Offer(RoomId roomId, in OrderedDelivery delivery)
    {
        if (!_rooms.TryGetValue(roomId, out var room))
        {
            return 0;
        }

        if (delivery.Id.IsNone)
        {
            return Fan(room, delivery);
        }

        if (room.Order is not { } order)
        {
            // Nobody here receives the room yet: the first to attach starts after the room's last stored message.
            return 0;
        }

        order.Offer(delivery);
        var count = 0;
        foreach (var connection in room.Receivers)
        {
            if (delivery.IsFor(connection.Membership!.DeviceId))
            {
                count++;
            }
        }

        return count;
    }

    private int Fan(HubRoom room, in OrderedDelivery delivery)
    {
        var handedTo = 0;
        foreach (var connection in room.Receivers)
        {
            if (delivery.IsFor(connection.Membership!.DeviceId) && connection.TrySend(delivery.Frame))
            {
                handedTo++;
            }
        }

        return handedTo;
    }

    /// <summary>This host's sessions are made by its connections (ConnectionHandler).</summary>
    private static ClientConnection ConnectionOf(ClientSession session) =>
        session.Channel as ClientConnection ?? throw new InvalidOperationException($"Session {session.Id} is not a connection of this host.");

    private void CloseConnection(ConnectionId connection) =>
        _connections.GetValueOrDefault(connection)?.RequestClose(ReplacedCloseStatus, ReplacedReason);

    /// <summary>
    /// The room's last message id; null when the database could not be read: the device was already told its room,
    /// and an outage must not turn that into a failed identify.
    /// </summary>
    private async Task<MessageId?> LastIdAsync(RoomId roomId, CancellationToken cancellationToken)
    {
        try
        {
            return await history.LastIdAsync(roomId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Messages of the room that never reached this node, read back from the database, routed as they were sent.</summary>
    private async Task<IReadOnlyList<OrderedDelivery>> FetchBetweenAsync(RoomId roomId, MessageId afterId, MessageId beforeId)
    {
        var messages = await history.BetweenAsync(roomId, afterId, beforeId, CancellationToken.None);
        return [.. messages.Select(m =>
        {
            var direct = m.Type == MessageType.Direct;
            return new OrderedDelivery(m.Id, MessageId.None, FrameWriter.Message(DeliveredMessageDto.From(m)), direct ? m.ToDeviceId!.Value : m.FromDeviceId, ToDeviceOnly: direct);
        })];
    }

    private static async Task<bool> SucceedsAsync(Task<IAsyncDisposable> subscription)
    {
        try
        {
            await subscription;
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Counted by the bus; the next presence refresh subscribes again.
            return false;
        }
    }

    private static async Task UnsubscribeAsync(Task<IAsyncDisposable>? subscription)
    {
        try
        {
            await (await subscription!).DisposeAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // It never subscribed: nothing to let go.
        }
    }

    /// <summary>A device's member in a room: which one holds the device's seat on this node.</summary>
    private sealed record Seat(RoomId RoomId, RoomMember Member);

    private sealed class HubRoom(RoomId id)
    {
        public readonly Lock Gate = new();

        public RoomId Id { get; } = id;

        /// <summary>Visible members (from join): the Domain aggregate, whose writers the gate serializes.</summary>
        public Room Live { get; } = new(id);

        /// <summary>Connections receiving the room (from attach, after their reply); copy-on-write.</summary>
        public ClientConnection[] Receivers { get; set; } = [];

        public RoomDeliveryOrder? Order { get; set; }

        public Task<IAsyncDisposable>? Subscription { get; set; }

        /// <summary>Its last member left and it was taken out of the hub; a join that still found it starts a new one.</summary>
        public bool Closed { get; set; }
    }
}

/// <summary>Where an identified connection belongs: its room and its device.</summary>
internal sealed record ConnectionMembership(RoomId RoomId, DeviceId DeviceId);

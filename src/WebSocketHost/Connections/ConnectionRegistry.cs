using System.Collections.Concurrent;
using System.Net.WebSockets;
using Rooms.Application.Messages.History;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The open connections of this node: by session id, by generation (connection row id) once
/// identified, and by room. Room lists are copy-on-write, so a fan-out reads one without locking.
/// A room's stored messages go out through its <see cref="RoomDeliveryOrder"/>, in id order.
/// Deliveries published by other nodes arrive here (<see cref="ILocalDelivery"/>).
/// </summary>
internal sealed class ConnectionRegistry(IMessageHistory history, ILogger<ConnectionRegistry> logger) : ILocalDelivery
{
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private readonly ConcurrentDictionary<long, ClientConnection> _byGeneration = new();
    private readonly ConcurrentDictionary<string, ClientConnection[]> _rooms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RoomDeliveryOrder> _orders = new(StringComparer.Ordinal);
    private readonly Lock _roomsGate = new();
    private long _lastSessionId;
    private long _slowConsumers;

    public int Count => _connections.Count;

    /// <summary>Connections dropped since start because their send queue filled up.</summary>
    public long SlowConsumersDisconnected => Interlocked.Read(ref _slowConsumers);

    public void CountSlowConsumer() => Interlocked.Increment(ref _slowConsumers);

    public long NextSessionId() => Interlocked.Increment(ref _lastSessionId);

    public void Add(ClientConnection connection) => _connections[connection.Id] = connection;

    /// <summary>Forgets the connection everywhere; after this it receives nothing more.</summary>
    public void Remove(ClientConnection connection)
    {
        _connections.TryRemove(connection.Id, out _);
        _byGeneration.TryRemove(new KeyValuePair<long, ClientConnection>(connection.Generation, connection));
        if (connection.Membership is not { } membership)
        {
            return;
        }

        lock (_roomsGate)
        {
            if (_rooms.TryGetValue(membership.RoomId, out var members))
            {
                var remaining = Array.FindAll(members, c => c != connection);
                if (remaining.Length == 0)
                {
                    _rooms.TryRemove(membership.RoomId, out _);
                    _orders.TryRemove(membership.RoomId, out _);
                }
                else
                {
                    _rooms[membership.RoomId] = remaining;
                }
            }
        }
    }

    public ClientConnection? Find(long sessionId) => _connections.GetValueOrDefault(sessionId);

    /// <summary>Lets <see cref="CloseGeneration"/> find the connection of an identified session.</summary>
    public void TrackGeneration(ClientConnection connection, long generation)
    {
        connection.Generation = generation;
        _byGeneration[generation] = connection;
    }

    /// <summary>
    /// From now on the connection receives its room's and its device's deliveries. A room that already has a
    /// delivery order on this node is joined where it stands; only the room's first connection here reads the
    /// room's last message id to start one (in a reconnect storm of 10 devices per room: one read per room,
    /// not one per identify).
    /// </summary>
    public async Task AttachAsync(ClientConnection connection, ConnectionMembership membership, CancellationToken cancellationToken)
    {
        lock (_roomsGate)
        {
            if (_orders.ContainsKey(membership.RoomId))
            {
                AddMember(connection, membership);
                return;
            }
        }

        // If another connection started the order meanwhile, Attach joins that one.
        Attach(connection, membership, await LastIdAsync(membership.RoomId, cancellationToken));
    }

    /// <summary>The device was already told its room: a database outage must not turn that into a failed identify.</summary>
    private async Task<long> LastIdAsync(string roomId, CancellationToken cancellationToken)
    {
        try
        {
            return await history.LastIdAsync(roomId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return RoomDeliveryOrder.StartAtFirstOffered;
        }
    }

    /// <summary>Attaches the connection, starting the room's delivery order after <paramref name="lastMessageId"/> if it has none yet.</summary>
    public void Attach(ClientConnection connection, ConnectionMembership membership, long lastMessageId)
    {
        lock (_roomsGate)
        {
            _orders.GetOrAdd(membership.RoomId, room => new RoomDeliveryOrder(room, lastMessageId, FetchBetweenAsync, logger));
            AddMember(connection, membership);
        }
    }

    // Under _roomsGate.
    private void AddMember(ClientConnection connection, ConnectionMembership membership)
    {
        connection.Membership = membership;
        _rooms[membership.RoomId] = _rooms.TryGetValue(membership.RoomId, out var members) ? [.. members, connection] : [connection];
    }

    /// <summary>
    /// A frame for every connection in the room but the device's. A stored message (<paramref name="messageId"/>
    /// above 0) waits for the room's earlier messages; anything else goes out at once.
    /// </summary>
    /// <returns>How many of this node's connections it is for.</returns>
    public int SendToRoom(string roomId, string exceptDeviceId, ReadOnlyMemory<byte> frame, long messageId = 0, long previousMessageId = 0)
    {
        if (messageId == 0)
        {
            return SendToRoomNow(roomId, exceptDeviceId, frame);
        }

        if (!_orders.TryGetValue(roomId, out var order) || !_rooms.TryGetValue(roomId, out var members))
        {
            return 0;
        }

        order.Offer(new OrderedDelivery(messageId, previousMessageId, () => SendToRoomNow(roomId, exceptDeviceId, frame)));
        return members.Length - CountDevice(members, exceptDeviceId);
    }

    /// <summary>A stored message for one device in the room, in the room's id order.</summary>
    /// <returns>How many of this node's connections it is for (0 when the device is elsewhere).</returns>
    public int SendToDevice(string roomId, string deviceId, ReadOnlyMemory<byte> frame, long messageId, long previousMessageId)
    {
        if (!_orders.TryGetValue(roomId, out var order) || !_rooms.TryGetValue(roomId, out var members))
        {
            return 0;
        }

        // Offered even when the device is not here: the room's order must see every message to move on.
        order.Offer(new OrderedDelivery(messageId, previousMessageId, () => SendToDeviceNow(roomId, deviceId, frame)));
        return CountDevice(members, deviceId);
    }

    /// <summary>No LINQ on the message path: a closure per message per room adds up.</summary>
    private static int CountDevice(ClientConnection[] members, string deviceId)
    {
        var count = 0;
        foreach (var connection in members)
        {
            if (connection.Membership!.DeviceId == deviceId)
            {
                count++;
            }
        }

        return count;
    }

    private int SendToRoomNow(string roomId, string exceptDeviceId, ReadOnlyMemory<byte> frame)
    {
        if (!_rooms.TryGetValue(roomId, out var members))
        {
            return 0;
        }

        var handedTo = 0;
        foreach (var connection in members)
        {
            if (connection.Membership!.DeviceId != exceptDeviceId && connection.TrySend(frame))
            {
                handedTo++;
            }
        }

        return handedTo;
    }

    private int SendToDeviceNow(string roomId, string deviceId, ReadOnlyMemory<byte> frame)
    {
        if (!_rooms.TryGetValue(roomId, out var members))
        {
            return 0;
        }

        var handedTo = 0;
        foreach (var connection in members)
        {
            if (connection.Membership!.DeviceId == deviceId && connection.TrySend(frame))
            {
                handedTo++;
            }
        }

        return handedTo;
    }

    /// <summary>Closes the connection of that generation, if this node holds it.</summary>
    public void CloseGeneration(long generation, WebSocketCloseStatus status, string reason) =>
        _byGeneration.GetValueOrDefault(generation)?.RequestClose(status, reason);

    public void Deliver(ClusterEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        switch (envelope.Kind)
        {
            case EnvelopeKind.ToRoom:
                SendToRoom(envelope.RoomId, envelope.DeviceId, envelope.Frame, envelope.MessageId, envelope.PreviousMessageId);
                break;
            case EnvelopeKind.ToDevice:
                SendToDevice(envelope.RoomId, envelope.DeviceId, envelope.Frame, envelope.MessageId, envelope.PreviousMessageId);
                break;
            case EnvelopeKind.CloseReplaced:
                CloseGeneration(envelope.Generation, ConnectionNotifier.ReplacedCloseStatus, ConnectionNotifier.ReplacedReason);
                break;
        }
    }

    /// <summary>Messages of the room that never reached this node, read back from the database, routed as they were sent.</summary>
    private async Task<IReadOnlyList<OrderedDelivery>> FetchBetweenAsync(string roomId, long afterId, long beforeId)
    {
        var messages = await history.BetweenAsync(roomId, afterId, beforeId, CancellationToken.None);
        return [.. messages.Select(m =>
        {
            ReadOnlyMemory<byte> frame = FrameWriter.Message(HistoryHandler.ToDelivered(m));
            return new OrderedDelivery(m.Id, 0, m.Type == MessageType.Direct
                ? () => SendToDeviceNow(roomId, m.ToDeviceId!, frame)
                : () => SendToRoomNow(roomId, m.FromDeviceId, frame));
        })];
    }

    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.RequestClose(status, reason);
        }
    }
}

/// <summary>Where an identified connection belongs: its room and its device.</summary>
internal sealed record ConnectionMembership(string RoomId, string DeviceId);

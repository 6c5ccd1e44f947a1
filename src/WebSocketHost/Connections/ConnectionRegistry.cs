using System.Collections.Concurrent;
using System.Net.WebSockets;
using Rooms.Application.Ports;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The open connections of this node: by session id, by generation (connection row id) once
/// identified, and by room. Room lists are copy-on-write, so a fan-out reads one without locking.
/// Deliveries published by other nodes arrive here (<see cref="ILocalDelivery"/>).
/// </summary>
internal sealed class ConnectionRegistry : ILocalDelivery
{
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private readonly ConcurrentDictionary<long, ClientConnection> _byGeneration = new();
    private readonly ConcurrentDictionary<string, ClientConnection[]> _rooms = new(StringComparer.Ordinal);
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
        if (connection.Membership is not { } membership)
        {
            return;
        }

        _byGeneration.TryRemove(new KeyValuePair<long, ClientConnection>(membership.Generation, connection));
        lock (_roomsGate)
        {
            if (_rooms.TryGetValue(membership.RoomId, out var members))
            {
                var remaining = Array.FindAll(members, c => c != connection);
                if (remaining.Length == 0)
                {
                    _rooms.TryRemove(membership.RoomId, out _);
                }
                else
                {
                    _rooms[membership.RoomId] = remaining;
                }
            }
        }
    }

    public ClientConnection? Find(long sessionId) => _connections.GetValueOrDefault(sessionId);

    /// <summary>From now on the connection receives its room's and its device's deliveries.</summary>
    public void Attach(ClientConnection connection, ConnectionMembership membership)
    {
        connection.Membership = membership;
        _byGeneration[membership.Generation] = connection;
        lock (_roomsGate)
        {
            _rooms[membership.RoomId] = _rooms.TryGetValue(membership.RoomId, out var members) ? [.. members, connection] : [connection];
        }
    }

    /// <returns>How many send queues took the frame.</returns>
    public int SendToRoom(string roomId, string exceptDeviceId, ReadOnlyMemory<byte> frame)
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

    /// <returns>How many send queues took the frame (an older connection of the device that is closing takes none).</returns>
    public int SendToDevice(string roomId, string deviceId, ReadOnlyMemory<byte> frame)
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
                SendToRoom(envelope.RoomId, envelope.DeviceId, envelope.Frame);
                break;
            case EnvelopeKind.ToDevice:
                SendToDevice(envelope.RoomId, envelope.DeviceId, envelope.Frame);
                break;
            case EnvelopeKind.CloseReplaced:
                CloseGeneration(envelope.Generation, ConnectionNotifier.ReplacedCloseStatus, ConnectionNotifier.ReplacedReason);
                break;
        }
    }

    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.RequestClose(status, reason);
        }
    }
}

/// <summary>Where an identified connection belongs: its room, its device, its generation.</summary>
internal sealed record ConnectionMembership(string RoomId, string DeviceId, long Generation);

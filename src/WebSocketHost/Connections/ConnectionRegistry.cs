using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The open connections of this node by session id, identified or not (their rooms are the
/// <see cref="RoomHub"/>'s): what replies are addressed to, what a shutdown closes, what is counted.
/// </summary>
internal sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private long _lastSessionId;
    private long _slowConsumers;

    public int Count => _connections.Count;

    /// <summary>Connections dropped since start because their send queue filled up.</summary>
    public long SlowConsumersDisconnected => Interlocked.Read(ref _slowConsumers);

    public void CountSlowConsumer() => Interlocked.Increment(ref _slowConsumers);

    public long NextSessionId() => Interlocked.Increment(ref _lastSessionId);

    public void Add(ClientConnection connection) => _connections[connection.SessionId] = connection;

    public void Remove(ClientConnection connection) => _connections.TryRemove(connection.SessionId, out _);

    public ClientConnection? Find(long sessionId) => _connections.GetValueOrDefault(sessionId);

    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.RequestClose(status, reason);
        }
    }
}

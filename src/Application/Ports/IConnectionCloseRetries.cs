using Rooms.Domain.Connections;

namespace Rooms.Application.Ports;

/// <summary>
/// Connections whose closing could not be stored (the database was down): they are closed later,
/// with the time the connection really ended, as soon as the database takes writes again.
/// </summary>
public interface IConnectionCloseRetries
{
    void Add(ConnectionId connection, DateTime disconnectedAt);

    /// <summary>Rows still waiting to be closed.</summary>
    int Pending { get; }
}

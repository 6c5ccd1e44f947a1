namespace Rooms.Application.Ports;

/// <summary>
/// Connection rows whose closing could not be stored (the database was down): they are closed later,
/// with the time the connection really ended, as soon as the database takes writes again.
/// </summary>
public interface IConnectionCloseRetries
{
    void Add(long connectionRowId, DateTime disconnectedAt);

    /// <summary>Rows still waiting to be closed.</summary>
    int Pending { get; }
}

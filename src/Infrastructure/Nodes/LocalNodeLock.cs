using Rooms.Application.Common;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Nodes;

/// <summary>
/// On SQLite (a database file on this host) a running node holds an operating-system lock on a file beside the database,
/// named for its node id (<c>rooms.db.vm-8765.lock</c>). The system releases it when the process ends, however it ends,
/// so a start that gets the lock knows no live process on this host runs with this node id on this database: a lease
/// that id still holds was left by a crash and is taken over at once, not after Cluster:NodeTimeout. On MySQL, where
/// nodes live on several hosts, there is no such proof and the lease runs out as before.
/// </summary>
public sealed class LocalNodeLock(DatabaseSettings settings, NodeIdentity node) : IDisposable
{
    private FileStream? _held;

    /// <summary>Takes the lock for the life of the process.</summary>
    /// <returns>True when this process holds it now: any lease of this node id on this database is a dead process's.</returns>
    public bool TryHold()
    {
        if (_held is not null)
        {
            return true;
        }

        if (settings.Provider != DatabaseProvider.Sqlite
            || new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(settings.ConnectionString).DataSource is not { Length: > 0 } file
            || file.StartsWith(':'))
        {
            return false;
        }

        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Linux: a second holder is refused at once.
            _held = new FileStream($"{Path.GetFullPath(file)}.{node.NodeId.Value}.lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false; // a live process holds it
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose() => _held?.Dispose();
}

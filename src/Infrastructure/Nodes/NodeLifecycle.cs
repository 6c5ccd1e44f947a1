using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Nodes;

/// <summary>
/// The node's life as the database records it (table <c>nodes</c>).
/// <para>
/// A lease on the node id: the row's incarnation holds it while its heartbeat (<c>last_seen_at</c>) keeps
/// moving. A start takes the lease only when it is free, released by a clean stop, or expired (no heartbeat
/// for <see cref="ClusterSettings.NodeTimeout"/>); a lease whose heartbeat moves while the start watches is a
/// live node with the same id, and the start is refused before it changes anything. Taking the lease is one
/// conditional UPDATE (or INSERT), so of two starts at once exactly one wins.
/// </para>
/// <para>
/// Closing the connection rows a node left open when it died: its own start-up closes the rows of its earlier
/// runs; rows of a node that died and never came back are closed by any surviving node once the dead node has
/// been silent for <see cref="ClusterSettings.NodeTimeout"/>. Either way the rows are stamped with the dead
/// node's last heartbeat. Closing is an idempotent UPDATE, so every node may act as the janitor at once.
/// </para>
/// </summary>
public sealed partial class NodeLifecycle(
    DatabaseGate database,
    NodeIdentity node,
    ClusterSettings settings,
    TimeProvider time,
    ILogger<NodeLifecycle> logger,
    LocalNodeLock? localLock = null)
{
    /// <summary>
    /// Checks that the live nodes on this database are in this node's cluster, takes the node id's lease (waiting
    /// for an earlier run's lease to expire), then closes the rows its earlier runs left open. Call before accepting
    /// connections.
    /// </summary>
    /// <returns>Null when the node may start; otherwise the one line that says why not (nothing was changed).</returns>
    public async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        if (await ForeignLiveNodesAsync(cancellationToken) is { } foreign)
        {
            return foreign;
        }

        var (refusal, previousHeartbeat) = await TakeLeaseAsync(cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        var lastSeen = previousHeartbeat ?? time.GetUtcNow().UtcDateTime;
        var closed = await CloseOpenRowsAsync(
            db.Connections.Where(c => c.NodeId == node.NodeId.Value || c.NodeId == string.Empty), lastSeen, cancellationToken);
        if (closed > 0)
        {
            LogClosedOwn(closed, lastSeen);
        }

        return null;
    }

    /// <summary>Records that this node is alive (renews its lease), then closes the rows of nodes that are not.</summary>
    /// <returns>False when this node no longer holds its lease: another start took its id over, and this node must stop.</returns>
    public async Task<bool> HeartbeatAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        var renewed = await db.Nodes
            .Where(n => n.NodeId == node.NodeId.Value && n.Incarnation == node.Incarnation)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.LastSeenAt, now), cancellationToken);
        if (renewed == 0)
        {
            return false;
        }

        var cutoff = now - settings.NodeTimeout;
        var dead = await db.Nodes
            .Where(n => n.NodeId != node.NodeId.Value && n.LastSeenAt < cutoff)
            .Where(n => db.Connections.Any(c => c.NodeId == n.NodeId && c.DisconnectedAt == null))
            .Select(n => new { n.NodeId, n.LastSeenAt })
            .ToListAsync(cancellationToken);
        foreach (var deadNode in dead)
        {
            var closed = await CloseOpenRowsAsync(db.Connections.Where(c => c.NodeId == deadNode.NodeId), deadNode.LastSeenAt, cancellationToken);
            if (closed > 0)
            {
                LogClosedDead(closed, deadNode.NodeId, deadNode.LastSeenAt);
            }
        }

        return true;
    }

    /// <summary>After a clean stop (every connection row closed): the node id is free for the next start at once.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        await db.Nodes
            .Where(n => n.NodeId == node.NodeId.Value && n.Incarnation == node.Incarnation)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.Incarnation, string.Empty).SetProperty(n => n.LastSeenAt, time.GetUtcNow().UtcDateTime), cancellationToken);
    }

    /// <summary>
    /// Live nodes (lease held, heartbeat within the timeout) that do not share this node's cluster: a node without
    /// Redis beside nodes with it, two nodes without Redis, or two Redis key spaces. Each would serve its own devices
    /// as if the others did not exist. A node told to run apart is never in conflict.
    /// </summary>
    private async Task<string?> ForeignLiveNodesAsync(CancellationToken cancellationToken)
    {
        var mine = settings.Membership;
        if (mine == ClusterSettings.ApartMembership)
        {
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var cutoff = now - settings.NodeTimeout;
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        var live = await db.Nodes.AsNoTracking()
            .Where(n => n.NodeId != node.NodeId.Value && n.Incarnation != string.Empty && n.LastSeenAt >= cutoff && n.Cluster != ClusterSettings.ApartMembership)
            // Rows from before memberships were recorded ('') belong to nodes that have not restarted since the upgrade.
            .Where(n => n.Cluster != string.Empty)
            .Select(n => new { n.NodeId, n.Cluster, n.LastSeenAt })
            .ToListAsync(cancellationToken);
        var foreign = live.Where(n => n.Cluster != mine || mine == ClusterSettings.SingleMembership).ToList();
        if (foreign.Count == 0)
        {
            return null;
        }

        var others = string.Join(", ", foreign.Select(n => $"{n.NodeId} ({Describe(n.Cluster)}, last heartbeat {Ago(now, n.LastSeenAt)})"));
        return $"Live nodes on this database are not in this node's cluster: {others}; this node is {Describe(mine)}. "
            + "Nodes sharing a database must share Redis (the same Cluster:Redis and Cluster:KeyPrefix), or their devices cannot reach each other. "
            + "Set Cluster__Redis (and Cluster__KeyPrefix) on this node like on the others, or Cluster__AllowSingleNodeOnSharedDatabase=true to run it apart knowingly. Nothing was changed.";
    }

    /// <summary>Takes the node id's lease, waiting at most one timeout for a held lease to expire or to show a live holder.</summary>
    /// <returns>A refusal line, or the previous holder's last heartbeat (null when the id is new).</returns>
    private async Task<(string? Refusal, DateTime? PreviousHeartbeat)> TakeLeaseAsync(CancellationToken cancellationToken)
    {
        NodeRow? watched = null;
        var watchUntil = DateTime.MaxValue;
        // On SQLite, holding the node id's lock file proves the lease's holder (on this host) is gone.
        var holderProvablyGone = localLock?.TryHold() == true;
        while (true)
        {
            var now = time.GetUtcNow().UtcDateTime;
            await using var lease = await database.OpenForWriterAsync(cancellationToken);
            var db = lease.Db;
            var row = await db.Nodes.AsNoTracking().SingleOrDefaultAsync(n => n.NodeId == node.NodeId.Value, cancellationToken);
            if (row is null)
            {
                db.Nodes.Add(new NodeRow { NodeId = node.NodeId.Value, Incarnation = node.Incarnation, Cluster = settings.Membership, StartedAt = now, LastSeenAt = now, LeaseMilliseconds = LeaseMilliseconds });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    return (null, null);
                }
                catch (DbUpdateException)
                {
                    continue; // Another start inserted it first: look again.
                }
            }

            var heldByAnother = row.Incarnation.Length > 0;
            if (watched is not null && heldByAnother && (row.Incarnation != watched.Incarnation || row.LastSeenAt != watched.LastSeenAt))
            {
                return (Refusal(row, now), null);
            }

            // The holder's own term decides, not this node's setting (they may differ).
            var term = row.LeaseMilliseconds > 0 ? TimeSpan.FromMilliseconds(row.LeaseMilliseconds) : settings.NodeTimeout;
            var expired = now - row.LastSeenAt > term || now >= watchUntil || holderProvablyGone;
            if (!heldByAnother || expired)
            {
                var taken = await db.Nodes
                    .Where(n => n.NodeId == node.NodeId.Value && n.Incarnation == row.Incarnation && n.LastSeenAt == row.LastSeenAt)
                    .ExecuteUpdateAsync(
                        s => s.SetProperty(n => n.Incarnation, node.Incarnation)
                            .SetProperty(n => n.Cluster, settings.Membership)
                            .SetProperty(n => n.StartedAt, now)
                            .SetProperty(n => n.LastSeenAt, now)
                            .SetProperty(n => n.LeaseMilliseconds, LeaseMilliseconds),
                        cancellationToken);
                if (taken == 1)
                {
                    if (heldByAnother && holderProvablyGone && now - row.LastSeenAt <= term)
                    {
                        LogTookOverFromDeadProcess(row.Incarnation, row.LastSeenAt);
                    }
                    else if (heldByAnother)
                    {
                        LogTookOverExpired(row.Incarnation, row.LastSeenAt);
                    }

                    return (null, row.LastSeenAt);
                }

                watched = null; // Another start moved it meanwhile: look again.
                continue;
            }

            if (watched is null)
            {
                // A live holder renews within one heartbeat interval; a dead one never does, and its lease runs out.
                watched = row;
                var remaining = row.LastSeenAt + term - now;
                watchUntil = now + (remaining < term ? remaining : term);
                LogWaiting(node.NodeId.Value, row.Incarnation, row.LastSeenAt, (watchUntil - now).TotalSeconds);
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private int LeaseMilliseconds => (int)Math.Min(int.MaxValue, settings.NodeTimeout.TotalMilliseconds);

    private TimeSpan PollInterval => TimeSpan.FromMilliseconds(Math.Clamp(settings.HeartbeatInterval.TotalMilliseconds / 4, 50, 1000));

    private string Refusal(NodeRow holder, DateTime now) =>
        $"Another live node holds node id '{node.NodeId.Value}' (incarnation {holder.Incarnation}, started {holder.StartedAt:o}, last heartbeat {holder.LastSeenAt:o}, {Ago(now, holder.LastSeenAt)}). "
        + "Give every node its own Cluster__NodeId (or leave it unset: the default is the machine name and port), or stop the other node first. Nothing was changed.";

    private static string Describe(string membership) => membership switch
    {
        ClusterSettings.SingleMembership => "a single node without Redis",
        ClusterSettings.ApartMembership => "a single node running apart",
        _ when membership.StartsWith("redis:", StringComparison.Ordinal) => $"Redis key space '{membership["redis:".Length..]}'",
        _ => $"'{membership}'",
    };

    private static string Ago(DateTime now, DateTime then) => $"{Math.Max(0, (now - then).TotalSeconds):0.#} s ago";

    /// <summary>Closes the open rows among <paramref name="rows"/> at the node's last sign of life (never before a row's own start).</summary>
    private static Task<int> CloseOpenRowsAsync(IQueryable<ConnectionRow> rows, DateTime lastSeen, CancellationToken cancellationToken) =>
        rows.Where(c => c.DisconnectedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DisconnectedAt, c => c.ConnectedAt > lastSeen ? c.ConnectedAt : lastSeen), cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Count} connection rows left open by this node's earlier run (stamped with its last heartbeat, {LastSeen:o})")]
    private partial void LogClosedOwn(int count, DateTime lastSeen);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Count} connection rows of node {NodeId}, silent since {LastSeen:o}")]
    private partial void LogClosedDead(int count, string nodeId, DateTime lastSeen);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Node id {NodeId} is leased to incarnation {Incarnation} (last heartbeat {LastSeen:o}): a crashed earlier run, or another live node with this id. Watching its heartbeat for up to {Seconds:0.#} s")]
    private partial void LogWaiting(string nodeId, string incarnation, DateTime lastSeen, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over the lease of incarnation {Incarnation} at once (last heartbeat {LastSeen:o}): no process on this host holds this node id's lock file, so that run is gone")]
    private partial void LogTookOverFromDeadProcess(string incarnation, DateTime lastSeen);

    [LoggerMessage(Level = LogLevel.Information, Message = "Took over the expired lease of incarnation {Incarnation} (last heartbeat {LastSeen:o})")]
    private partial void LogTookOverExpired(string incarnation, DateTime lastSeen);
}

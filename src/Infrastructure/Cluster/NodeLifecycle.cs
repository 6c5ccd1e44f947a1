using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// The node's life as the database records it (table <c>nodes</c>): a heartbeat, and closing the
/// connection rows that a node left open when it died. A node's start-up closes the rows of its own
/// earlier runs; rows of a node that died and never came back are closed by any surviving node once
/// the dead node has been silent for <see cref="ClusterSettings.NodeTimeout"/>. Either way the rows are
/// stamped with the dead node's last heartbeat, the last moment its connections were known to be alive.
/// Closing is an idempotent UPDATE, so every node may act as the janitor at once.
/// </summary>
public sealed partial class NodeLifecycle(
    IDbContextFactory<RoomsDbContext> contexts,
    NodeIdentity node,
    ClusterSettings settings,
    IClock clock,
    ILogger<NodeLifecycle> logger)
{
    /// <summary>
    /// Registers this start of the node and closes the rows its earlier runs left open (and rows from
    /// before nodes were recorded). Call before accepting connections.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Nodes.SingleOrDefaultAsync(n => n.NodeId == node.NodeId, cancellationToken);
        var lastSeen = row?.LastSeenAt ?? now;
        var closed = await CloseOpenRowsAsync(
            db.Connections.Where(c => c.NodeId == node.NodeId || c.NodeId == string.Empty), lastSeen, cancellationToken);
        if (closed > 0)
        {
            LogClosedOwn(closed, lastSeen);
        }

        if (row is null)
        {
            db.Nodes.Add(new NodeRow { NodeId = node.NodeId, Incarnation = node.Incarnation, StartedAt = now, LastSeenAt = now });
        }
        else
        {
            row.Incarnation = node.Incarnation;
            row.StartedAt = now;
            row.LastSeenAt = now;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Records that this node is alive, then closes the rows of nodes that are not.</summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        var now = clock.UtcNow;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.Nodes
            .Where(n => n.NodeId == node.NodeId)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.LastSeenAt, now), cancellationToken);

        var cutoff = now - settings.NodeTimeout;
        var dead = await db.Nodes
            .Where(n => n.NodeId != node.NodeId && n.LastSeenAt < cutoff)
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
    }

    /// <summary>Closes the open rows among <paramref name="rows"/> at the node's last sign of life (never before a row's own start).</summary>
    private static Task<int> CloseOpenRowsAsync(IQueryable<ConnectionRow> rows, DateTime lastSeen, CancellationToken cancellationToken) =>
        rows.Where(c => c.DisconnectedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DisconnectedAt, c => c.ConnectedAt > lastSeen ? c.ConnectedAt : lastSeen), cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Count} connection rows left open by this node's earlier run (stamped with its last heartbeat, {LastSeen:o})")]
    private partial void LogClosedOwn(int count, DateTime lastSeen);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Count} connection rows of node {NodeId}, silent since {LastSeen:o}")]
    private partial void LogClosedDead(int count, string nodeId, DateTime lastSeen);
}

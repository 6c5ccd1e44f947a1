using Rooms.Domain.Connections;

namespace Rooms.Application.Ports;

/// <summary>
/// How this node's link to the other nodes fares, for readiness, metrics, the status line and the dashboard.
/// A node alone has no link: no figures, no probe, no other nodes' stats.
/// </summary>
public interface IClusterStatus
{
    /// <summary>The link's figures (Redis); null on a single node.</summary>
    ClusterFigures? Figures();

    /// <summary>Whether a probe published to this node's own channel came back within the timeout; null on a single node.</summary>
    Task<bool?> ProbeAsync(TimeSpan timeout);

    /// <summary>Posts this node's dashboard figures (a JSON document) where every node's dashboard reads them.</summary>
    Task PostNodeStatsAsync(NodeId nodeId, string json);

    /// <summary>Every live node's latest dashboard figures, this node's included (none on a single node).</summary>
    Task<IReadOnlyList<string>> NodeStatsAsync(CancellationToken cancellationToken);
}

/// <param name="RedisUp">False while this node serves its own members only.</param>
/// <param name="EverConnected">Whether Redis has answered since this node started: never means a wrong address, not an outage.</param>
/// <param name="Published">Envelopes this node published to the other nodes since start.</param>
/// <param name="Received">Envelopes this node received from the other nodes since start.</param>
public sealed record ClusterFigures(bool RedisUp, long Outages, long Failures, int SubscribedRooms, long Published, long Received, bool EverConnected = true);

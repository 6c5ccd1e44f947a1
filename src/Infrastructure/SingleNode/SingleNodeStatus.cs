using Rooms.Application.Ports;
using Rooms.Domain.Connections;

namespace Rooms.Infrastructure.SingleNode;

/// <summary>A node alone has no link to other nodes to report on.</summary>
public sealed class SingleNodeStatus : IClusterStatus
{
    public ClusterFigures? Figures() => null;

    public Task<bool?> ProbeAsync(TimeSpan timeout) => Task.FromResult<bool?>(null);

    public Task PostNodeStatsAsync(NodeId nodeId, string json) => Task.CompletedTask;

    public Task<IReadOnlyList<string>> NodeStatsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
}

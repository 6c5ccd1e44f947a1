using Rooms.Application.Ports;

namespace Rooms.Infrastructure.Cluster;

/// <summary>A node running alone has nobody to publish to: it delivers to its own members and that is all.</summary>
public sealed class LocalOnlyBus : IClusterBus
{
    public void PublishToRoom(ClusterEnvelope envelope)
    {
    }

    public void PublishToNode(string nodeId, ClusterEnvelope envelope)
    {
    }
}

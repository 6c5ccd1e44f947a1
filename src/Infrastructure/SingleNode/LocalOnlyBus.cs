using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Infrastructure.SingleNode;

/// <summary>A node running alone has nobody to publish to: it delivers to its own members and that is all.</summary>
public sealed class LocalOnlyBus : IClusterBus
{
    private static readonly Task<IAsyncDisposable> Nothing = Task.FromResult<IAsyncDisposable>(new NoSubscription());

    public void PublishToRoom(ClusterEnvelope envelope)
    {
    }

    public void PublishToNode(NodeId nodeId, ClusterEnvelope envelope)
    {
    }

    public Task<IAsyncDisposable> SubscribeRoomAsync(RoomId roomId, ILocalDelivery to) => Nothing;

    public Task SubscribeNodeAsync(ILocalDelivery to) => Task.CompletedTask;

    private sealed class NoSubscription : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

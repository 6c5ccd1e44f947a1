using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Redis pub/sub between nodes. A node listens to a room's channel only while it holds a member
/// of the room, and to its own node channel always. Each subscription is a
/// <see cref="ChannelMessageQueue"/>, which hands over its messages one at a time, in order: what
/// one node published reaches the others in the order it was published.
/// </summary>
public sealed partial class RedisClusterBus : IClusterBus, IAsyncDisposable
{
    private readonly RedisConnection _redis;
    private readonly ILocalDelivery _delivery;
    private readonly NodeIdentity _node;
    private readonly RedisKeys _keys;
    private readonly ILogger<RedisClusterBus> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RoomSubscription> _rooms = new(StringComparer.Ordinal);
    private ChannelMessageQueue? _nodeQueue;
    private long _published;
    private long _received;

    public RedisClusterBus(RedisConnection redis, ILocalDelivery delivery, NodeIdentity node, ClusterSettings settings, ILogger<RedisClusterBus> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _redis = redis;
        _delivery = delivery;
        _node = node;
        _keys = new RedisKeys(settings.KeyPrefix);
        _logger = logger;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource> _probes = new();
    private long _lastProbe;

    public long Published => Interlocked.Read(ref _published);

    public long Received => Interlocked.Read(ref _received);

    public int SubscribedRooms
    {
        get
        {
            lock (_gate)
            {
                return _rooms.Count;
            }
        }
    }

    /// <summary>
    /// Subscribes the node's own channel unless it is already; StackExchange.Redis keeps it subscribed
    /// across reconnects. Called at start-up and by every presence refresh, so a node that started while
    /// Redis was down subscribes once it is up.
    /// </summary>
    public async Task EnsureNodeChannelAsync()
    {
        if (Volatile.Read(ref _nodeQueue) is not null || !_redis.IsUp)
        {
            return;
        }

        try
        {
            var queue = await _redis.Multiplexer.GetSubscriber().SubscribeAsync(_keys.NodeChannel(_node.NodeId));
            if (Interlocked.CompareExchange(ref _nodeQueue, queue, null) is null)
            {
                queue.OnMessage(message => Receive(message, roomSubscription: null));
            }
            else
            {
                await queue.UnsubscribeAsync();
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
        }
    }

    /// <summary>
    /// Publishes a probe to this node's own channel and waits for it to come back through the subscription:
    /// true only when delivery works end to end (a connection that answers PING can still have lost its
    /// subscriptions).
    /// </summary>
    public async Task<bool> ProbeAsync(TimeSpan timeout)
    {
        await EnsureNodeChannelAsync();
        var id = Interlocked.Increment(ref _lastProbe);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probes[id] = arrived;
        try
        {
            var probe = new ClusterEnvelope(EnvelopeKind.Probe, string.Empty, string.Empty, id, ReadOnlyMemory<byte>.Empty);
            await _redis.Multiplexer.GetSubscriber().PublishAsync(_keys.NodeChannel(_node.NodeId), EnvelopeCodec.Encode(probe, _node.NodeId));
            await arrived.Task.WaitAsync(timeout);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return false;
        }
        finally
        {
            _probes.TryRemove(id, out _);
        }
    }

    public void PublishToRoom(ClusterEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        Publish(_keys.RoomChannel(envelope.RoomId), envelope);
    }

    public void PublishToNode(string nodeId, ClusterEnvelope envelope) => Publish(_keys.NodeChannel(nodeId), envelope);

    /// <summary>
    /// Makes sure the room's channel is subscribed; the task completes once Redis confirmed it (or the
    /// attempt failed: the next presence refresh tries again). Call under the caller's room lock.
    /// </summary>
    internal Task EnsureRoom(string roomId)
    {
        lock (_gate)
        {
            if (_rooms.TryGetValue(roomId, out var existing) && !existing.Subscribed.IsFaulted)
            {
                return existing.Subscribed;
            }

            var subscription = new RoomSubscription(roomId);
            subscription.Subscribed = SubscribeAsync(subscription);
            _rooms[roomId] = subscription;
            return subscription.Subscribed;
        }
    }

    /// <summary>Stops listening to a room this node no longer holds a member of. Call under the caller's room lock.</summary>
    internal void ReleaseRoom(string roomId)
    {
        RoomSubscription? released;
        lock (_gate)
        {
            if (!_rooms.Remove(roomId, out released))
            {
                return;
            }
        }

        _ = UnsubscribeAsync(released);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _nodeQueue, null) is { } queue)
        {
            await queue.UnsubscribeAsync();
        }
    }

    private async Task SubscribeAsync(RoomSubscription subscription)
    {
        try
        {
            var queue = await _redis.Multiplexer.GetSubscriber().SubscribeAsync(_keys.RoomChannel(subscription.RoomId));
            queue.OnMessage(message => Receive(message, subscription));
            subscription.Queue = queue;
            _redis.Succeeded();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
            throw;
        }
    }

    private async Task UnsubscribeAsync(RoomSubscription subscription)
    {
        try
        {
            await subscription.Subscribed;
            if (subscription.Queue is { } queue)
            {
                await queue.UnsubscribeAsync();
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Left subscribed: its messages are ignored (the subscription is no longer current).
            _redis.Failed(ex);
        }
    }

    private void Publish(RedisChannel channel, ClusterEnvelope envelope)
    {
        if (!_redis.IsUp)
        {
            _redis.Skipped();
            return;
        }

        try
        {
            // Fire-and-forget keeps the sender's pace; commands of one multiplexer still leave in order.
            _redis.Multiplexer.GetSubscriber().Publish(channel, EnvelopeCodec.Encode(envelope, _node.NodeId), CommandFlags.FireAndForget);
            Interlocked.Increment(ref _published);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
        }
    }

    private void Receive(ChannelMessage message, RoomSubscription? roomSubscription)
    {
        try
        {
            if (roomSubscription is not null && !IsCurrent(roomSubscription))
            {
                return;
            }

            var (envelope, origin) = EnvelopeCodec.Decode((ReadOnlyMemory<byte>)message.Message);
            if (envelope.Kind == EnvelopeKind.Probe)
            {
                if (origin == _node.NodeId && _probes.TryGetValue(envelope.Generation, out var probe))
                {
                    probe.TrySetResult();
                }

                return;
            }

            if (origin == _node.NodeId)
            {
                // This node delivered to its own members before publishing.
                return;
            }

            Interlocked.Increment(ref _received);
            _delivery.Deliver(envelope);
        }
        catch (Exception ex)
        {
            // One bad envelope must not stop the channel's queue.
            LogReceiveFailed(ex, message.Channel.ToString());
        }
    }

    private bool IsCurrent(RoomSubscription subscription)
    {
        lock (_gate)
        {
            return _rooms.TryGetValue(subscription.RoomId, out var current) && current == subscription;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a message from Redis channel {Channel} failed")]
    private partial void LogReceiveFailed(Exception exception, string channel);

    private sealed class RoomSubscription(string roomId)
    {
        public string RoomId { get; } = roomId;

        public Task Subscribed { get; set; } = Task.CompletedTask;

        public ChannelMessageQueue? Queue { get; set; }
    }
}

using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Nodes;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Redis pub/sub between nodes. A node listens to a room's channel while its hub holds a member of the
/// room (the hub subscribes and unsubscribes), and to its own node channel always. Each subscription is a
/// <see cref="ChannelMessageQueue"/>, which hands over its messages one at a time, in order: what one node
/// published reaches the others in the order it was published. A node's own publications come back to it
/// on the rooms it listens to; they are recognised by their origin bytes and dropped undecoded.
/// </summary>
public sealed partial class RedisClusterBus : IClusterBus, IAsyncDisposable
{
    private readonly RedisConnection _redis;
    private readonly NodeIdentity _node;
    private readonly byte[] _origin;
    private readonly RedisKeys _keys;
    private readonly ILogger<RedisClusterBus> _logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, TaskCompletionSource> _probes = new();
    private ChannelMessageQueue? _nodeQueue;
    private ILocalDelivery? _nodeDelivery;
    private long _lastProbe;
    private long _published;
    private long _received;
    private int _subscribedRooms;

    public RedisClusterBus(RedisConnection redis, NodeIdentity node, ClusterSettings settings, ILogger<RedisClusterBus> logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(settings);
        _redis = redis;
        _node = node;
        _origin = System.Text.Encoding.UTF8.GetBytes(node.NodeId.Value);
        _keys = new RedisKeys(settings.KeyPrefix);
        _logger = logger;
    }

    public long Published => Interlocked.Read(ref _published);

    public long Received => Interlocked.Read(ref _received);

    public int SubscribedRooms => Volatile.Read(ref _subscribedRooms);

    /// <summary>
    /// Subscribes the node's own channel unless it is already; StackExchange.Redis keeps it subscribed
    /// across reconnects. The hub calls it at start-up and on every presence refresh, so a node that started
    /// while Redis was down subscribes once it is up.
    /// </summary>
    public async Task SubscribeNodeAsync(ILocalDelivery to)
    {
        Volatile.Write(ref _nodeDelivery, to);
        if (Volatile.Read(ref _nodeQueue) is not null || !_redis.IsUp)
        {
            return;
        }

        try
        {
            var queue = await _redis.Multiplexer.GetSubscriber().SubscribeAsync(_keys.NodeChannel(_node.NodeId));
            if (Interlocked.CompareExchange(ref _nodeQueue, queue, null) is null)
            {
                queue.OnMessage(message => Receive(message, Volatile.Read(ref _nodeDelivery), null));
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
        if (Volatile.Read(ref _nodeDelivery) is { } delivery)
        {
            await SubscribeNodeAsync(delivery);
        }

        var id = Interlocked.Increment(ref _lastProbe);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probes[id] = arrived;
        try
        {
            var probe = new ClusterEnvelope(EnvelopeKind.Probe, null, null, ConnectionId.None, BitConverter.GetBytes(id));
            await _redis.Multiplexer.GetSubscriber().PublishAsync(_keys.NodeChannel(_node.NodeId), EnvelopeCodec.Encode(probe, _origin));
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
        Publish(_keys.RoomChannel(envelope.RoomId!.Value), envelope);
    }

    public void PublishToNode(NodeId nodeId, ClusterEnvelope envelope) => Publish(_keys.NodeChannel(nodeId), envelope);

    public async Task<IAsyncDisposable> SubscribeRoomAsync(RoomId roomId, ILocalDelivery to)
    {
        var subscription = new RoomSubscription(this);
        try
        {
            var queue = await _redis.Multiplexer.GetSubscriber().SubscribeAsync(_keys.RoomChannel(roomId));
            queue.OnMessage(message => Receive(message, to, subscription));
            subscription.Queue = queue;
            Interlocked.Increment(ref _subscribedRooms);
            _redis.Succeeded();
            return subscription;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _nodeQueue, null) is { } queue)
        {
            await queue.UnsubscribeAsync();
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
            _redis.Multiplexer.GetSubscriber().Publish(channel, EnvelopeCodec.Encode(envelope, _origin), CommandFlags.FireAndForget);
            Interlocked.Increment(ref _published);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
        }
    }

    private void Receive(ChannelMessage message, ILocalDelivery? to, RoomSubscription? subscription)
    {
        try
        {
            if (subscription is { Released: true } || to is null)
            {
                return;
            }

            ReadOnlyMemory<byte> bytes = message.Message;
            if (EnvelopeCodec.KindOf(bytes.Span) == EnvelopeKind.Probe)
            {
                var (probe, origin) = EnvelopeCodec.Decode(bytes);
                // A probe's frame is its number.
                if (origin == _node.NodeId && _probes.TryGetValue(BitConverter.ToInt64(probe.Frame.Span), out var arrived))
                {
                    arrived.TrySetResult();
                }

                return;
            }

            if (EnvelopeCodec.IsFrom(bytes.Span, _origin))
            {
                // This node delivered to its own members before publishing.
                return;
            }

            Interlocked.Increment(ref _received);
            to.Deliver(EnvelopeCodec.Decode(bytes).Envelope);
        }
        catch (Exception ex)
        {
            // One bad envelope must not stop the channel's queue.
            LogReceiveFailed(ex, message.Channel.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling a message from Redis channel {Channel} failed")]
    private partial void LogReceiveFailed(Exception exception, string channel);

    /// <summary>One room's channel, until the hub lets go of it: after that, what still arrives is dropped.</summary>
    private sealed class RoomSubscription(RedisClusterBus bus) : IAsyncDisposable
    {
        private int _released;

        public bool Released => Volatile.Read(ref _released) == 1;

        public ChannelMessageQueue? Queue { get; set; }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }

            Interlocked.Decrement(ref bus._subscribedRooms);
            try
            {
                await Queue!.UnsubscribeAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Left subscribed: its messages are dropped (released).
                bus._redis.Failed(ex);
            }
        }
    }
}

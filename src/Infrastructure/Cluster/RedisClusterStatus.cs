using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Infrastructure.Nodes;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// The Redis link's figures and probe, and where the nodes post their dashboard figures (a small JSON document
/// each, expiring when a node stops posting), so any node's dashboard shows every node.
/// </summary>
public sealed class RedisClusterStatus(RedisConnection redis, RedisClusterBus bus, ClusterSettings settings) : IClusterStatus
{
    public static readonly TimeSpan StatsLifetime = TimeSpan.FromSeconds(10);

    private readonly string _statsPrefix = new RedisKeys(settings.KeyPrefix).NodeStatsPrefix;

    public ClusterFigures? Figures() => new(redis.IsUp, redis.Outages, redis.Failures, bus.SubscribedRooms, bus.Published, bus.Received, redis.EverConnected);

    public async Task<bool?> ProbeAsync(TimeSpan timeout) => await bus.ProbeAsync(timeout);

    public Task PostNodeStatsAsync(NodeId nodeId, string json) =>
        redis.CallAsync(db => db.StringSetAsync(_statsPrefix + nodeId.Value, json, StatsLifetime), false);

    /// <summary>SCAN, so it does not block Redis.</summary>
    public async Task<IReadOnlyList<string>> NodeStatsAsync(CancellationToken cancellationToken)
    {
        var documents = new List<string>();
        await redis.CallAsync(async db =>
        {
            foreach (var endpoint in redis.Multiplexer.GetEndPoints())
            {
                await foreach (var key in redis.Multiplexer.GetServer(endpoint).KeysAsync(pattern: _statsPrefix + "*").WithCancellation(cancellationToken))
                {
                    if (await db.StringGetAsync(key) is { HasValue: true } value)
                    {
                        documents.Add(value.ToString());
                    }
                }
            }

            return true;
        }, false);
        return documents;
    }
}

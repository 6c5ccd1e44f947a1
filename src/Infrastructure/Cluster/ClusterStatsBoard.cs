using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Where the nodes of a cluster post their dashboard figures (a small JSON document each, expiring when a
/// node stops posting), so any node's dashboard shows every node.
/// </summary>
public sealed class ClusterStatsBoard(RedisConnection redis, ClusterSettings settings)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private readonly string _prefix = settings.KeyPrefix + ":node-stats:";

    public Task PostAsync(string nodeId, string json) =>
        redis.CallAsync(db => db.StringSetAsync(_prefix + nodeId, json, Lifetime), false);

    /// <summary>Every live node's latest document (SCAN, so it does not block Redis).</summary>
    public async Task<IReadOnlyList<string>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var documents = new List<string>();
        await redis.CallAsync(async db =>
        {
            foreach (var endpoint in redis.Multiplexer.GetEndPoints())
            {
                await foreach (var key in redis.Multiplexer.GetServer(endpoint).KeysAsync(pattern: _prefix + "*").WithCancellation(cancellationToken))
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

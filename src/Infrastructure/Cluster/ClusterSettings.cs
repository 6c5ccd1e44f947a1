using System.Buffers;

namespace Rooms.Infrastructure.Cluster;

/// <summary>The <c>Cluster</c> configuration section: several nodes behind one address, sharing one database and one Redis.</summary>
public sealed class ClusterSettings
{
    public const string SectionName = "Cluster";

    /// <summary>StackExchange.Redis configuration string (<c>host:port[,options]</c>); empty runs this node alone.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Names this node in connection rows, presence and channels. It must differ between nodes and stay the
    /// same across a node's restarts (its start-up closes the rows its earlier run left open). Default: the machine name.
    /// </summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>A member whose node stops refreshing it vanishes from its room after this long.</summary>
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a node refreshes its members in Redis (and re-registers them after a Redis restart).</summary>
    public TimeSpan PresenceRefreshInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a node records in the database that it is alive, and closes the rows of dead nodes.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A node silent for this long is dead: the other nodes close its open connection rows.</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Prefix of every Redis key and channel, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "rooms";

    public bool Enabled => !string.IsNullOrWhiteSpace(Redis);

    public void Validate()
    {
        Require(NodeId is { Length: > 0 and <= MaxNodeIdLength } && !NodeId.AsSpan().ContainsAnyExcept(NodeIdChars),
            $"Cluster:NodeId must be 1-{MaxNodeIdLength} characters of A-Z a-z 0-9 _ - . (a host name fits)");
        Require(PresenceRefreshInterval > TimeSpan.Zero && PresenceTtl > PresenceRefreshInterval * 2,
            "Cluster:PresenceTtl must be more than twice Cluster:PresenceRefreshInterval (a refresh may be late once)");
        Require(HeartbeatInterval > TimeSpan.Zero && NodeTimeout > HeartbeatInterval * 2,
            "Cluster:NodeTimeout must be more than twice Cluster:HeartbeatInterval");
        Require(!string.IsNullOrWhiteSpace(KeyPrefix), "Cluster:KeyPrefix must not be empty");
    }

    public const int MaxNodeIdLength = 64;

    private static readonly SearchValues<char> NodeIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

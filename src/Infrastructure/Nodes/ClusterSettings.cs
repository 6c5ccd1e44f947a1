using static Rooms.Infrastructure.Configuration.SettingsBinder;

namespace Rooms.Infrastructure.Nodes;

/// <summary>The <c>Cluster</c> configuration section: several nodes behind one address, sharing one database and one Redis.</summary>
public sealed class ClusterSettings
{
    public const string SectionName = "Cluster";

    /// <summary>StackExchange.Redis configuration string (<c>host:port[,options]</c>); empty runs this node alone.</summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Names this node in connection rows, presence and channels. It must differ between nodes and stay the
    /// same across a node's restarts (its start-up closes the rows its earlier run left open); a node refuses
    /// to start while another live node holds its id. Default: the machine name and the listening port (<c>vm-8765</c>).
    /// </summary>
    public string? NodeId { get; set; }

    /// <summary>
    /// Lets a node without <see cref="Redis"/> start on a database that other live nodes use. They will not see
    /// each other's devices (each node is its own cluster), so it is off: a forgotten Redis setting refuses to start.
    /// </summary>
    public bool AllowSingleNodeOnSharedDatabase { get; set; }

    /// <summary>A member whose node stops refreshing it vanishes from its room after this long.</summary>
    public TimeSpan PresenceTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a node refreshes its members in Redis (and re-registers them after a Redis restart).</summary>
    public TimeSpan PresenceRefreshInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often a node records in the database that it is alive (renews its lease on its node id), and closes the rows of dead nodes.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node silent for this long is dead: its lease on its node id has expired (a restart with that id may take
    /// it over) and the other nodes close its open connection rows.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Prefix of every Redis key and channel, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "rooms";

    public bool Enabled => !string.IsNullOrWhiteSpace(Redis);

    /// <summary>What nodes sharing a database must agree on, recorded in <c>nodes.cluster</c>: the Redis key space, or that the node runs alone.</summary>
    public string Membership => Enabled ? $"redis:{KeyPrefix}" : AllowSingleNodeOnSharedDatabase ? ApartMembership : SingleMembership;

    public const string SingleMembership = "single";

    public const string ApartMembership = "apart";

    public void Validate()
    {
        Require(Domain.Connections.NodeId.IsValid(NodeId), $"Cluster:NodeId must be {Domain.Connections.NodeId.Rule}; got '{NodeId}'");
        Require(PresenceRefreshInterval > TimeSpan.Zero && PresenceTtl > PresenceRefreshInterval * 2,
            "Cluster:PresenceTtl must be more than twice Cluster:PresenceRefreshInterval (a refresh may be late once)");
        Require(HeartbeatInterval > TimeSpan.Zero && NodeTimeout > HeartbeatInterval * 2,
            "Cluster:NodeTimeout must be more than twice Cluster:HeartbeatInterval (a heartbeat may be late once)");
        Require(!string.IsNullOrWhiteSpace(KeyPrefix) && KeyPrefix.Length <= MaxKeyPrefixLength, $"Cluster:KeyPrefix must be 1-{MaxKeyPrefixLength} characters");
    }

    /// <summary>The id a node gets when none is configured: this machine's name and the port (see <see cref="Domain.Connections.NodeId.ForMachine"/>).</summary>
    public static string DefaultNodeId(int port) => Domain.Connections.NodeId.ForMachine(Environment.MachineName, port).Value;

    public const int MaxKeyPrefixLength = 100;
}

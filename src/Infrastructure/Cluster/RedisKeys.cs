using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Every Redis key and channel the cluster uses, named in one place (PresenceScripts.Join rebuilds the
/// room keys of a device's previous room from <see cref="Prefix"/>, as <see cref="RoomMembers"/> does).
/// </summary>
internal sealed class RedisKeys(string prefix)
{
    public string Prefix { get; } = prefix;

    /// <summary>Hash: device id -> "connection|node|identity" of the room's members.</summary>
    public RedisKey RoomMembers(RoomId roomId) => $"{Prefix}:room:{roomId}:members";

    /// <summary>A SCAN pattern for every room's members hash.</summary>
    public string AllRoomMembers => $"{Prefix}:room:*:members";

    /// <summary>The room of a key <see cref="AllRoomMembers"/> matched.</summary>
    public RoomId RoomOfMembersKey(string key) => new(key[$"{Prefix}:room:".Length..^":members".Length]);

    /// <summary>Sorted set: device id -> expiry (Redis server time, ms) of each member of the room.</summary>
    public RedisKey RoomExpiry(RoomId roomId) => $"{Prefix}:room:{roomId}:expiry";

    /// <summary>String: "connection|node|room" of the device's newest connection, the fence for replacement.</summary>
    public RedisKey Device(DeviceId deviceId) => $"{Prefix}:device:{deviceId}";

    /// <summary>Deliveries for a room's members; a node subscribes while it holds one of them.</summary>
    public RedisChannel RoomChannel(RoomId roomId) => RedisChannel.Literal($"{Prefix}:room:{roomId}");

    /// <summary>Strings: each node's latest dashboard figures, under this prefix plus the node id.</summary>
    public string NodeStatsPrefix => $"{Prefix}:node-stats:";

    /// <summary>Commands for one node (close a replaced connection).</summary>
    public RedisChannel NodeChannel(NodeId nodeId) => RedisChannel.Literal($"{Prefix}:node:{nodeId}");
}

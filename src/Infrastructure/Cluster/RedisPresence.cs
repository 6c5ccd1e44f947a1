using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Nodes;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Every node's members in Redis (after centrifuge's presence_redis.go): a hash of members and a sorted set
/// of expiry times per room, plus each device's newest connection, changed only by atomic scripts
/// (<see cref="PresenceScripts"/>). A plain store: <see cref="PresenceRefresher"/> keeps this node's members
/// alive and tells rooms about expired ones. Every answer is null while Redis cannot be asked.
/// </summary>
public sealed class RedisPresence(RedisConnection redis, NodeIdentity node, ClusterSettings settings) : IPresence
{
    private readonly RedisKeys _keys = new(settings.KeyPrefix);

    public ValueTask<PresenceJoin?> JoinAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new(redis.CallAsync<PresenceJoin?>(async db =>
        {
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(PresenceScripts.Join,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.ConnectionId.Value, node.NodeId.Value, roomId.Value, member.Identity, (long)settings.PresenceTtl.TotalMilliseconds, _keys.Prefix, member.DeviceId.Value]))!;
            if ((int)result[0] == 0)
            {
                return PresenceJoin.Stale;
            }

            var replaced = (string)result[1]!;
            return string.IsNullOrEmpty(replaced) ? PresenceJoin.Added(null, null) : ParseDeviceEntry(member, replaced);
        }, null));
    }

    public ValueTask<bool?> LeaveAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        return new(redis.CallAsync<bool?>(
            async db => (int)await db.ScriptEvaluateAsync(PresenceScripts.Leave,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.ConnectionId.Value, member.DeviceId.Value]) == 1,
            null));
    }

    public ValueTask<IReadOnlyList<RoomMember>?> MembersAsync(RoomId roomId, CancellationToken cancellationToken) =>
        new(redis.CallAsync<IReadOnlyList<RoomMember>?>(async db =>
            ParseMembers((RedisResult[])(await db.ScriptEvaluateAsync(PresenceScripts.Members, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)]))!), null));

    public ValueTask<RoomMember?> FindAsync(RoomId roomId, DeviceId deviceId, CancellationToken cancellationToken) =>
        new(redis.CallAsync(async db =>
        {
            var entry = await db.ScriptEvaluateAsync(PresenceScripts.Find, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)], [deviceId.Value]);
            return entry.IsNull ? null : ParseMember(deviceId, (string)entry!);
        }, (RoomMember?)null));

    public ValueTask<IReadOnlyList<RoomMember>> PruneExpiredAsync(RoomId roomId, CancellationToken cancellationToken) =>
        new(redis.CallAsync<IReadOnlyList<RoomMember>>(async db =>
            ParseMembers((RedisResult[])(await db.ScriptEvaluateAsync(PresenceScripts.Prune, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)]))!), []));

    /// <summary>Every room with a members hash (SCAN, not KEYS: it does not block Redis).</summary>
    public ValueTask<IReadOnlyList<RoomId>> RoomsAsync(CancellationToken cancellationToken) =>
        new(redis.CallAsync<IReadOnlyList<RoomId>>(async _ =>
        {
            var rooms = new HashSet<RoomId>();
            foreach (var endpoint in redis.Multiplexer.GetEndPoints())
            {
                await foreach (var key in redis.Multiplexer.GetServer(endpoint).KeysAsync(pattern: _keys.AllRoomMembers).WithCancellation(cancellationToken))
                {
                    rooms.Add(_keys.RoomOfMembersKey(key.ToString()));
                }
            }

            return [.. rooms];
        }, []));

    private static List<RoomMember> ParseMembers(RedisResult[] fieldsAndValues)
    {
        var members = new List<RoomMember>(fieldsAndValues.Length / 2);
        for (var i = 0; i + 1 < fieldsAndValues.Length; i += 2)
        {
            if (ParseMember(new DeviceId((string)fieldsAndValues[i]!), (string)fieldsAndValues[i + 1]!) is { } member)
            {
                members.Add(member);
            }
        }

        return members;
    }

    /// <summary>A room hash entry: "connection|node|identity".</summary>
    private static RoomMember? ParseMember(DeviceId deviceId, string entry)
    {
        var parts = entry.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], out var connection)
            ? new RoomMember(deviceId, parts[2], new ConnectionId(connection), new NodeId(parts[1]))
            : null;
    }

    /// <summary>A device key: "connection|node|room"; the identity is not kept there (the newer member's stands in).</summary>
    private static PresenceJoin ParseDeviceEntry(RoomMember newer, string entry)
    {
        var parts = entry.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], out var connection)
            ? PresenceJoin.Added(new RoomMember(newer.DeviceId, newer.Identity, new ConnectionId(connection), new NodeId(parts[1])), new RoomId(parts[2]))
            : PresenceJoin.Added(null, null);
    }
}

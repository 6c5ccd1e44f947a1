namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Lua scripts run atomically by Redis (after centrifuge's presence_redis.go): a hash of members plus a
/// sorted set of expiry times per room, pruned on read, refreshed by the owning node, so a dead node's
/// members vanish by themselves. Times are Redis's own clock, so nodes' clocks need not agree.
/// Entries are "connection|node|..." strings; the connection id (newer is higher) fences replacement.
/// Not for Redis Cluster: the scripts touch keys of the device's previous room.
/// </summary>
internal static class PresenceScripts
{
    private const string Now = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local function connectionOf(entry) return tonumber(string.match(entry, '^(%d+)|')) end
        """;

    /// <summary>
    /// Join or refresh. KEYS: device, room members, room expiry. ARGV: connection id, node, room, identity,
    /// ttl ms, key prefix, device id. Returns {1, replaced "connection|node|room" or ""} when the member is
    /// in, {0, newer entry} when a newer connection of the device is registered already.
    /// </summary>
    public const string Join = Now + """

        local conn = tonumber(ARGV[1])
        local ttl = tonumber(ARGV[5])
        local replaced = ''
        local current = redis.call('GET', KEYS[1])
        if current then
          local curConn, curNode, curRoom = string.match(current, '^(%d+)|([^|]*)|(.*)$')
          curConn = tonumber(curConn)
          if curConn > conn then return {0, current} end
          if curConn < conn then
            local members = ARGV[6] .. ':room:' .. curRoom .. ':members'
            local entry = redis.call('HGET', members, ARGV[7])
            if entry and connectionOf(entry) == curConn then
              redis.call('HDEL', members, ARGV[7])
              redis.call('ZREM', ARGV[6] .. ':room:' .. curRoom .. ':expiry', ARGV[7])
            end
            replaced = current
          end
        end
        local existing = redis.call('HGET', KEYS[2], ARGV[7])
        if existing and connectionOf(existing) > conn then return {0, existing} end
        redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[3], 'PX', ttl)
        redis.call('HSET', KEYS[2], ARGV[7], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[4])
        redis.call('ZADD', KEYS[3], now + ttl, ARGV[7])
        redis.call('PEXPIRE', KEYS[2], ttl)
        redis.call('PEXPIRE', KEYS[3], ttl)
        return {1, replaced}
        """;

    /// <summary>Leave. KEYS: device, room members, room expiry. ARGV: connection id, device id. Removes only that connection's entry; returns 1 when it was in the room.</summary>
    public const string Leave = Now + """

        local conn = tonumber(ARGV[1])
        local current = redis.call('GET', KEYS[1])
        if current and connectionOf(current) == conn then redis.call('DEL', KEYS[1]) end
        local entry = redis.call('HGET', KEYS[2], ARGV[2])
        if entry and connectionOf(entry) == conn then
          redis.call('HDEL', KEYS[2], ARGV[2])
          redis.call('ZREM', KEYS[3], ARGV[2])
          return 1
        end
        return 0
        """;

    /// <summary>Members. KEYS: room members, room expiry. Returns the members that have not expired, as field, value, ...</summary>
    public const string Members = Now + """

        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
        local all = redis.call('HGETALL', KEYS[1])
        if #expired == 0 then return all end
        local gone = {}
        for _, device in ipairs(expired) do gone[device] = true end
        local live = {}
        for i = 1, #all, 2 do
          if not gone[all[i]] then
            table.insert(live, all[i])
            table.insert(live, all[i + 1])
          end
        end
        return live
        """;

    /// <summary>
    /// Prune. KEYS: room members, room expiry. Removes the expired members and returns them as field, value, ...
    /// Whoever's call pruned a member (exactly one caller: the script is atomic) tells the room it left.
    /// </summary>
    public const string Prune = Now + """

        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
        local pruned = {}
        for _, device in ipairs(expired) do
          local entry = redis.call('HGET', KEYS[1], device)
          if entry then
            table.insert(pruned, device)
            table.insert(pruned, entry)
            redis.call('HDEL', KEYS[1], device)
          end
        end
        if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
        return pruned
        """;

    /// <summary>Find. KEYS: room members, room expiry. ARGV: device id. The member's entry unless it expired, else false.</summary>
    public const string Find = Now + """

        local expiry = redis.call('ZSCORE', KEYS[2], ARGV[1])
        if not expiry or tonumber(expiry) <= now then return false end
        return redis.call('HGET', KEYS[1], ARGV[1])
        """;
}

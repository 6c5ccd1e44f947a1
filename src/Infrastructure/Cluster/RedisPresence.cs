using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Rooms;
using Rooms.Infrastructure.Presence;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Presence across nodes: this node's members in memory (answers that need no round trip, and all
/// there is while Redis is down) and every node's members in Redis, with expiry. The node refreshes
/// its members every <see cref="ClusterSettings.PresenceRefreshInterval"/>; the refresh also writes
/// them again after a Redis restart and closes a local connection that a newer one of its device
/// superseded while the nodes could not hear each other.
/// </summary>
public sealed partial class RedisPresence : IPresence, IAsyncDisposable
{
    private readonly InMemoryPresence _local = new();
    private readonly Lock _roomGate = new();
    private readonly RedisConnection _redis;
    private readonly RedisClusterBus _bus;
    private readonly IClientNotifier _notifier;
    private readonly ProtocolSettings _protocol;
    private readonly NodeIdentity _node;
    private readonly ClusterSettings _settings;
    private readonly RedisKeys _keys;
    private readonly ILogger<RedisPresence> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshNow = new(0, 1);
    private readonly Task _refresher;
    private int _disposed;

    public RedisPresence(
        RedisConnection redis, RedisClusterBus bus, IClientNotifier notifier, ProtocolSettings protocol, NodeIdentity node, ClusterSettings settings,
        ILogger<RedisPresence> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(settings);
        _redis = redis;
        _bus = bus;
        _notifier = notifier;
        _protocol = protocol;
        _node = node;
        _settings = settings;
        _keys = new RedisKeys(settings.KeyPrefix);
        _logger = logger;
        redis.Restored += RefreshSoon;
        _refresher = Task.Run(RefreshLoopAsync);
    }

    public async ValueTask<PresenceJoin> JoinAsync(string roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        PresenceJoin local;
        Task subscribed;
        lock (_roomGate)
        {
            local = _local.Join(roomId, member);
            subscribed = local.Superseded ? Task.CompletedTask : _bus.EnsureRoom(roomId);
        }

        if (local.Superseded)
        {
            return local;
        }

        // Listen to the room before the other nodes can see the member, so nothing they send it is missed.
        if (!await SucceedsAsync(subscribed))
        {
            return local;
        }

        var shared = await RegisterAsync(roomId, member);
        if (shared is null)
        {
            return local;
        }

        if (shared.Value.Superseded)
        {
            Leave(roomId, member);
            return shared.Value;
        }

        // Redis knows the device's older member on any node; the local answer only this node's.
        return shared.Value.Replaced is not null ? shared.Value : local;
    }

    /// <returns>Whether the member was in the room until now, as Redis saw it (this node's view while Redis is down).</returns>
    public async ValueTask<bool> LeaveAsync(string roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        var removedHere = Leave(roomId, member);

        // A newer connection (on any node) replaced this member in Redis: the device did not leave. Without
        // Redis, this node's view answers (the entry expires by itself within the presence TTL).
        return await _redis.CallAsync(
            async db => (int)await db.ScriptEvaluateAsync(PresenceScripts.Leave,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.Generation, member.DeviceId]) == 1,
            removedHere);
    }

    public async ValueTask<IReadOnlyList<RoomMember>> MembersAsync(string roomId, CancellationToken cancellationToken)
    {
        var local = _local.Members(roomId);
        if (await _redis.CallAsync<List<RoomMember>?>(async db => await SharedMembersAsync(db, roomId), null) is not { } shared)
        {
            return local;
        }

        var members = shared.ToDictionary(m => m.DeviceId, StringComparer.Ordinal);

        // This node's own members are certain, whether or not Redis has caught up with them (unless Redis knows a newer connection).
        foreach (var member in local)
        {
            if (!members.TryGetValue(member.DeviceId, out var known) || member.Generation >= known.Generation)
            {
                members[member.DeviceId] = member;
            }
        }

        return [.. members.Values.OrderBy(m => m.Generation)];
    }

    public async ValueTask<RoomMember?> FindAsync(string roomId, string deviceId, CancellationToken cancellationToken)
    {
        if (_local.Find(roomId, deviceId) is { } local)
        {
            return local;
        }

        return await _redis.CallAsync(async db =>
        {
            var entry = await db.ScriptEvaluateAsync(PresenceScripts.Find, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)], [deviceId]);
            return entry.IsNull ? null : ParseMember(deviceId, (string)entry!);
        }, (RoomMember?)null);
    }

    public IReadOnlyDictionary<string, IReadOnlyList<RoomMember>> LocalRooms() => _local.LocalRooms();

    /// <summary>This node's rooms and every room with a members hash in Redis (SCAN, not KEYS: it does not block Redis).</summary>
    public async ValueTask<IReadOnlyList<string>> OccupiedRoomsAsync(CancellationToken cancellationToken)
    {
        var rooms = new HashSet<string>(_local.LocalRooms().Keys, StringComparer.Ordinal);
        var prefix = _keys.RoomMembers(string.Empty).ToString()[..^":members".Length];
        await _redis.CallAsync(async _ =>
        {
            foreach (var endpoint in _redis.Multiplexer.GetEndPoints())
            {
                await foreach (var key in _redis.Multiplexer.GetServer(endpoint).KeysAsync(pattern: prefix + "*:members").WithCancellation(cancellationToken))
                {
                    rooms.Add(key.ToString()[prefix.Length..^":members".Length]);
                }
            }

            return true;
        }, false);

        var occupied = new List<string>();
        foreach (var room in rooms)
        {
            if ((await MembersAsync(room, cancellationToken)).Count > 0)
            {
                occupied.Add(room);
            }
        }

        return occupied;
    }

    /// <summary>The room's members in Redis, after pruning the expired ones; the room hears that those left.</summary>
    private async Task<List<RoomMember>> SharedMembersAsync(IDatabase db, string roomId)
    {
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(PresenceScripts.Members, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)]))!;
        foreach (var expired in ParseMembers((RedisResult[])result[0]!))
        {
            // Only this call pruned it (the script is atomic), so the room hears it exactly once.
            LogExpired(expired.DeviceId, expired.NodeId, roomId);
            if (_protocol.PresenceEvents)
            {
                _notifier.SendPresence(roomId, expired.DeviceId, new PresenceEventDto(PresenceEventDto.Left, roomId, expired.DeviceId, expired.Identity));
            }
        }

        return ParseMembers((RedisResult[])result[1]!);
    }

    private static List<RoomMember> ParseMembers(RedisResult[] fieldsAndValues)
    {
        var members = new List<RoomMember>(fieldsAndValues.Length / 2);
        for (var i = 0; i + 1 < fieldsAndValues.Length; i += 2)
        {
            if (ParseMember((string)fieldsAndValues[i]!, (string)fieldsAndValues[i + 1]!) is { } member)
            {
                members.Add(member);
            }
        }

        return members;
    }

    /// <summary>
    /// Writes every local member to Redis again (refresh), subscribes rooms whose subscription failed, and
    /// prunes the expired members of this node's rooms (a dead node's), so their rooms hear they left.
    /// </summary>
    public async Task RefreshAsync()
    {
        await _bus.EnsureNodeChannelAsync();
        foreach (var roomId in _local.LocalRooms().Keys)
        {
            if (await _redis.CallAsync<List<RoomMember>?>(async db => await SharedMembersAsync(db, roomId), null) is null)
            {
                return;
            }
        }

        foreach (var (roomId, member) in _local.AllMembers())
        {
            Task subscribed;
            lock (_roomGate)
            {
                if (_local.Find(roomId, member.DeviceId) != member)
                {
                    continue;
                }

                subscribed = _bus.EnsureRoom(roomId);
            }

            if (!await SucceedsAsync(subscribed))
            {
                return;
            }

            var shared = await RegisterAsync(roomId, member);
            if (shared is null)
            {
                return;
            }

            if (shared.Value.Superseded)
            {
                // Two connections of one device met while Redis was away; the newer one stays.
                LogSupersededOnRefresh(member.DeviceId, member.Generation);
                Leave(roomId, member);
                _notifier.CloseReplaced(member);
            }
            else if (shared.Value.Replaced is { } replaced)
            {
                _notifier.CloseReplaced(replaced);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _redis.Restored -= RefreshSoon;
        await _stopping.CancelAsync();
        await _refresher;
        _stopping.Dispose();
        _refreshNow.Dispose();
    }

    private bool Leave(string roomId, RoomMember member)
    {
        lock (_roomGate)
        {
            var (removed, roomEmpty) = _local.Leave(roomId, member);
            if (roomEmpty)
            {
                _bus.ReleaseRoom(roomId);
            }

            return removed;
        }
    }

    /// <returns>The shared outcome, or null when Redis could not be asked.</returns>
    private Task<PresenceJoin?> RegisterAsync(string roomId, RoomMember member) =>
        _redis.CallAsync<PresenceJoin?>(async db =>
        {
            var result = (RedisResult[])(await db.ScriptEvaluateAsync(PresenceScripts.Join,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.Generation, _node.NodeId, roomId, member.Identity, (long)_settings.PresenceTtl.TotalMilliseconds, _keys.Prefix, member.DeviceId]))!;
            if ((int)result[0] == 0)
            {
                return PresenceJoin.Stale;
            }

            var replaced = (string)result[1]!;
            return string.IsNullOrEmpty(replaced) ? PresenceJoin.Added(null, null) : ParseDeviceEntry(member, replaced);
        }, null);

    private async Task<bool> SucceedsAsync(Task subscribed)
    {
        try
        {
            await subscribed;
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Counted by the bus; the next refresh subscribes again.
            return false;
        }
    }

    private async Task RefreshLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await _refreshNow.WaitAsync(_settings.PresenceRefreshInterval, _stopping.Token);
                await RefreshAsync();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(ex);
            }
        }
    }

    private void RefreshSoon()
    {
        try
        {
            _refreshNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already due.
        }
    }

    /// <summary>A room hash entry: "generation|node|identity".</summary>
    private static RoomMember? ParseMember(string deviceId, string entry)
    {
        var parts = entry.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], out var generation)
            ? new RoomMember(deviceId, parts[2], generation, parts[1])
            : null;
    }

    /// <summary>A device key: "generation|node|room"; the identity is not kept there (the newer member's stands in).</summary>
    private static PresenceJoin ParseDeviceEntry(RoomMember newer, string entry)
    {
        var parts = entry.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], out var generation)
            ? PresenceJoin.Added(new RoomMember(newer.DeviceId, newer.Identity, generation, parts[1]), parts[2])
            : PresenceJoin.Added(null, null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} of node {NodeId} expired from room {RoomId}: its node stopped refreshing it")]
    private partial void LogExpired(string deviceId, string nodeId, string roomId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId}: connection {ConnectionId} superseded by a newer one registered while Redis was unreachable; closing it")]
    private partial void LogSupersededOnRefresh(string deviceId, long connectionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing presence in Redis failed")]
    private partial void LogRefreshFailed(Exception exception);
}

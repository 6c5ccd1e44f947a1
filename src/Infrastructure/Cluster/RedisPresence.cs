using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
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
    private readonly NodeIdentity _node;
    private readonly ClusterSettings _settings;
    private readonly RedisKeys _keys;
    private readonly ILogger<RedisPresence> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshNow = new(0, 1);
    private readonly Task _refresher;
    private int _disposed;

    public RedisPresence(
        RedisConnection redis, RedisClusterBus bus, IClientNotifier notifier, NodeIdentity node, ClusterSettings settings, ILogger<RedisPresence> logger)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(settings);
        _redis = redis;
        _bus = bus;
        _notifier = notifier;
        _node = node;
        _settings = settings;
        _keys = new RedisKeys(settings.KeyPrefix);
        _logger = logger;
        redis.Restored += RefreshSoon;
        _refresher = Task.Run(RefreshLoopAsync);
    }

    private IDatabase Db => _redis.Multiplexer.GetDatabase();

    public async ValueTask<PresenceJoin> JoinAsync(string roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        PresenceJoin local;
        Task subscribed;
        lock (_roomGate)
        {
            local = _local.Join(roomId, member, out _);
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

        // A local older member was closed through the local answer already; a remote one only Redis knows.
        return PresenceJoin.Added(local.Replaced ?? shared.Value.Replaced);
    }

    public async ValueTask LeaveAsync(string roomId, RoomMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        Leave(roomId, member);
        if (!_redis.IsUp)
        {
            _redis.Skipped();
            return;
        }

        try
        {
            await Db.ScriptEvaluateAsync(PresenceScripts.Leave,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.Generation, member.DeviceId]);
            _redis.Succeeded();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The entry expires by itself within the presence TTL.
            _redis.Failed(ex);
        }
    }

    public async ValueTask<IReadOnlyList<RoomMember>> MembersAsync(string roomId, CancellationToken cancellationToken)
    {
        var local = _local.Members(roomId);
        if (!_redis.IsUp)
        {
            _redis.Skipped();
            return local;
        }

        try
        {
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(PresenceScripts.Members,
                [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)]))!;
            _redis.Succeeded();
            var members = new Dictionary<string, RoomMember>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < result.Length; i += 2)
            {
                var deviceId = (string)result[i]!;
                if (ParseMember(deviceId, (string)result[i + 1]!) is { } member)
                {
                    members[deviceId] = member;
                }
            }

            // This node's own members are certain, whether or not Redis has caught up with them.
            foreach (var member in local)
            {
                members[member.DeviceId] = member;
            }

            return [.. members.Values.OrderBy(m => m.Generation)];
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
            return local;
        }
    }

    public async ValueTask<RoomMember?> FindAsync(string roomId, string deviceId, CancellationToken cancellationToken)
    {
        if (_local.Find(roomId, deviceId) is { } local)
        {
            return local;
        }

        if (!_redis.IsUp)
        {
            _redis.Skipped();
            return null;
        }

        try
        {
            var entry = await Db.ScriptEvaluateAsync(PresenceScripts.Find, [_keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)], [deviceId]);
            _redis.Succeeded();
            return entry.IsNull ? null : ParseMember(deviceId, (string)entry!);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
            return null;
        }
    }

    public IReadOnlyDictionary<string, IReadOnlyList<RoomMember>> LocalRooms() => _local.LocalRooms();

    /// <summary>Writes every local member to Redis again (refresh), and subscribes rooms whose subscription failed.</summary>
    public async Task RefreshAsync()
    {
        await _bus.EnsureNodeChannelAsync();
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

    private void Leave(string roomId, RoomMember member)
    {
        lock (_roomGate)
        {
            if (_local.Leave(roomId, member))
            {
                _bus.ReleaseRoom(roomId);
            }
        }
    }

    /// <returns>The shared outcome, or null when Redis could not be asked.</returns>
    private async Task<PresenceJoin?> RegisterAsync(string roomId, RoomMember member)
    {
        if (!_redis.IsUp)
        {
            _redis.Skipped();
            return null;
        }

        try
        {
            var result = (RedisResult[])(await Db.ScriptEvaluateAsync(PresenceScripts.Join,
                [_keys.Device(member.DeviceId), _keys.RoomMembers(roomId), _keys.RoomExpiry(roomId)],
                [member.Generation, _node.NodeId, roomId, member.Identity, (long)_settings.PresenceTtl.TotalMilliseconds, _keys.Prefix, member.DeviceId]))!;
            _redis.Succeeded();
            if ((int)result[0] == 0)
            {
                return PresenceJoin.Stale;
            }

            var replaced = (string)result[1]!;
            return PresenceJoin.Added(string.IsNullOrEmpty(replaced) ? null : ParseDeviceEntry(member, replaced));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.Failed(ex);
            return null;
        }
    }

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

    /// <summary>A device key: "generation|node|room"; the identity is not kept there.</summary>
    private static RoomMember? ParseDeviceEntry(RoomMember newer, string entry)
    {
        var parts = entry.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], out var generation)
            ? new RoomMember(newer.DeviceId, newer.Identity, generation, parts[1])
            : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId}: connection {ConnectionId} superseded by a newer one registered while Redis was unreachable; closing it")]
    private partial void LogSupersededOnRefresh(string deviceId, long connectionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing presence in Redis failed")]
    private partial void LogRefreshFailed(Exception exception);
}

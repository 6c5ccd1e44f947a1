using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Nodes;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// Keeps this node's members alive in the shared presence, every <see cref="ClusterSettings.PresenceRefreshInterval"/>
/// and at once when Redis is back: listens again to what it lost, writes every member again (after a Redis restart
/// they are gone), closes a local connection a newer one of its device superseded while the nodes could not hear
/// each other, and prunes the expired members of this node's rooms (a dead node's), whose rooms hear they left.
/// </summary>
public sealed partial class PresenceRefresher(
    IPresence store, IRoomHub hub, RoomPresence presence, RedisConnection redis, ClusterSettings settings, ILogger<PresenceRefresher> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _refreshNow = new(0, 1);

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await hub.ResubscribeAsync();
        foreach (var (roomId, members) in hub.Rooms())
        {
            foreach (var expired in await store.PruneExpiredAsync(roomId, cancellationToken))
            {
                LogExpired(expired.DeviceId, expired.NodeId, roomId);
                presence.AnnounceLeft(roomId, expired);
            }

            foreach (var member in members)
            {
                var join = await store.JoinAsync(roomId, member, cancellationToken);
                if (join is null)
                {
                    // Redis is down: the next refresh (right after it is back) writes them all.
                    return;
                }

                if (join.Value.Superseded)
                {
                    // Two connections of one device met while Redis was away; the newer one stays.
                    LogSupersededOnRefresh(member.DeviceId, member.ConnectionId);
                    presence.CloseReplaced(member);
                }
                else if (join.Value.Replaced is { } replaced)
                {
                    presence.CloseReplaced(replaced);
                }
            }

            // A member that left (or whose node began stopping) while this refresh wrote it back goes out again, or it
            // would stay listed, and counted as a recipient, until its TTL (the probe saw one after a lease take-over).
            var stillHere = hub.Members(roomId).Select(m => m.ConnectionId).ToHashSet();
            foreach (var member in members.Where(m => !stillHere.Contains(m.ConnectionId)))
            {
                await store.LeaveAsync(roomId, member, cancellationToken);
            }
        }
    }

    public override void Dispose()
    {
        _refreshNow.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.Restored += RefreshSoon;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await _refreshNow.WaitAsync(settings.PresenceRefreshInterval, stoppingToken);
                    await RefreshAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    LogRefreshFailed(ex);
                }
            }
        }
        finally
        {
            redis.Restored -= RefreshSoon;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} of node {NodeId} expired from room {RoomId}: its node stopped refreshing it")]
    private partial void LogExpired(DeviceId deviceId, NodeId nodeId, RoomId roomId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId}: connection {ConnectionId} superseded by a newer one registered while Redis was unreachable; closing it")]
    private partial void LogSupersededOnRefresh(DeviceId deviceId, ConnectionId connectionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing presence in Redis failed")]
    private partial void LogRefreshFailed(Exception exception);
}

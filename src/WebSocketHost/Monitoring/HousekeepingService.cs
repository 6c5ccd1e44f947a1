using Rooms.Application.Common;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// Every <see cref="ClusterSettings.HeartbeatInterval"/>: tells the database this node is alive (renewing its
/// lease on its node id), closes the connection rows of nodes that are not, forgets client message ids past their
/// window, and deletes rows past their retention when one is configured. A heartbeat is a write: when it goes
/// through, storage takes writes again, so an outage (a full disk) ends for readiness even while no client writes.
/// </summary>
internal sealed partial class HousekeepingService(
    NodeLifecycle lifecycle,
    ClientMessageIdJanitor clientIds,
    RetentionJanitor retention,
    ClusterSettings settings,
    NodeIdentity node,
    ReadinessGate readiness,
    StorageOutageLog storage,
    DatabaseSettings database,
    IHostApplicationLifetime lifetime,
    ILogger<HousekeepingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first heartbeat must follow the start-up sweep, which closes rows at the previous last heartbeat.
        await readiness.WhenOpen.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(settings.HeartbeatInterval);
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (!await lifecycle.HeartbeatAsync(stoppingToken))
                {
                    // Another start took this node's id over (this node was silent past Cluster:NodeTimeout):
                    // two nodes with one id corrupt the connection trail, so this one steps down.
                    LogLeaseLost(node.NodeId.Value);
                    lifetime.StopApplication();
                    return;
                }

                if (database.FreeBytes() is not < DatabaseSettings.MinimumFreeBytes)
                {
                    storage.Succeeded();
                }

                await clientIds.ForgetExpiredAsync(stoppingToken);
                if (retention.Enabled)
                {
                    await retention.DeleteExpiredAsync(stoppingToken);
                }

                if (failing)
                {
                    failing = false;
                    LogRecovered();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged once per outage, not every interval.
                if (!failing)
                {
                    failing = true;
                    LogFailed(ex);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Node heartbeat failed; other nodes may take this node for dead after Cluster:NodeTimeout")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node heartbeat recorded again")]
    private partial void LogRecovered();

    [LoggerMessage(Level = LogLevel.Critical,
        Message = "Node id {NodeId} was taken over by another start (this node's heartbeat was silent past its lease); stopping so that two nodes never share one id")]
    private partial void LogLeaseLost(string nodeId);
}

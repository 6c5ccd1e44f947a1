using Rooms.Infrastructure.Cluster;
using Rooms.Infrastructure.Messaging;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// Every <see cref="ClusterSettings.HeartbeatInterval"/>: tells the database this node is alive, closes
/// the connection rows of nodes that are not, and forgets client message ids past their window.
/// </summary>
internal sealed partial class HousekeepingService(
    NodeLifecycle lifecycle,
    ClientMessageIdJanitor clientIds,
    ClusterSettings settings,
    ReadinessGate readiness,
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
                await lifecycle.HeartbeatAsync(stoppingToken);
                await clientIds.ForgetExpiredAsync(stoppingToken);
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
}

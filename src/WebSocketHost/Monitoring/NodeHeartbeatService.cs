using Rooms.Infrastructure.Cluster;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>Tells the database this node is alive, and closes the connection rows of nodes that are not.</summary>
internal sealed partial class NodeHeartbeatService(
    NodeLifecycle lifecycle,
    ClusterSettings settings,
    ILogger<NodeHeartbeatService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.HeartbeatInterval);
        var failing = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await lifecycle.HeartbeatAsync(stoppingToken);
                if (failing)
                {
                    failing = false;
                    LogRecovered();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Logged once per outage: the database's own failures are logged where messages fail.
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

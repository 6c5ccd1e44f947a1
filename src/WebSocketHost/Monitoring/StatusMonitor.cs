using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>The seed's periodic status line: connections, active rooms and the devices in each room.</summary>
internal sealed partial class StatusMonitor(
    ConnectionRegistry registry,
    IRoomHub hub,
    NodeIdentity node,
    IClusterStatus cluster,
    RoomsSettings settings,
    ILogger<StatusMonitor> logger) : BackgroundService
{
    /// <summary>Rooms listed per line; beyond this the line says how many more there are.</summary>
    private const int MaxRoomsListed = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.StatusInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            LogStatus();
        }
    }

    internal void LogStatus()
    {
        var rooms = hub.Rooms();
        var listed = rooms
            .Take(MaxRoomsListed)
            .ToDictionary(r => r.Key.Value, r => r.Value.Select(m => m.DeviceId.Value).ToArray());
        LogStatusLine(registry.Count, rooms.Count, listed, Math.Max(0, rooms.Count - MaxRoomsListed), registry.SlowConsumersDisconnected,
            $"node {node.NodeId}, cluster {ClusterState()}");
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Status: {Connections} connections, {ActiveRooms} active rooms, devices by room {@RoomDevices} (+{MoreRooms} rooms not listed), {SlowConsumers} slow consumers disconnected since start; {Node}")]
    private partial void LogStatusLine(int connections, int activeRooms, Dictionary<string, string[]> roomDevices, int moreRooms, long slowConsumers, string node);

    private string ClusterState() => cluster.Figures() is not { } link
        ? "off (single node)"
        : $"Redis {(link.RedisUp ? "up" : "DOWN")}, {link.Outages} outages, {link.Failures} failed Redis calls, "
            + $"{link.SubscribedRooms} rooms subscribed, {link.Published} published, {link.Received} received";
}

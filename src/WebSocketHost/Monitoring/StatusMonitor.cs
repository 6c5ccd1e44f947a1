using Rooms.Application.Ports;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>The seed's periodic status line: connections, active rooms and the devices in each room.</summary>
internal sealed partial class StatusMonitor(
    ConnectionRegistry registry,
    IPresence presence,
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
        var rooms = presence.OccupiedRooms();
        var listed = rooms
            .Take(MaxRoomsListed)
            .ToDictionary(r => r.Id, r => r.Members.Select(m => m.DeviceId).ToArray());
        LogStatusLine(registry.Count, rooms.Count, listed, Math.Max(0, rooms.Count - MaxRoomsListed), registry.SlowConsumersDisconnected);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Status: {Connections} connections, {ActiveRooms} active rooms, devices by room {@RoomDevices} (+{MoreRooms} rooms not listed), {SlowConsumers} slow consumers disconnected since start")]
    private partial void LogStatusLine(int connections, int activeRooms, Dictionary<string, string[]> roomDevices, int moreRooms, long slowConsumers);
}

using Rooms.Application.Ports;
using Rooms.WebSocketHost.Admin;
using Rooms.WebSocketHost.Connections;
using Rooms.WebSocketHost.Health;
using Rooms.WebSocketHost.Monitoring;

namespace Rooms.WebSocketHost;

public static class DependencyInjection
{
    public static IServiceCollection AddWebSocketHost(this IServiceCollection services, RoomsSettings settings, AdminSettings admin)
    {
        services.AddSingleton(settings);
        services.AddSingleton(admin);
        services.AddSingleton<ReadinessGate>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<RoomHub>();
        services.AddSingleton<IRoomHub>(provider => provider.GetRequiredService<RoomHub>());
        services.AddSingleton<ICommitFeed>(provider => provider.GetRequiredService<RoomHub>());
        services.AddSingleton<ClientLimits>();
        services.AddSingleton<IClientLimits>(provider => provider.GetRequiredService<ClientLimits>());
        services.AddSingleton<Admission>();
        services.AddSingleton<ReplyBudget>();
        services.AddSingleton<ConnectionHandler>();
        services.AddHostedService<StatusMonitor>();
        services.AddHostedService<HousekeepingService>();
        services.AddHostedService<MemoryReclaimer>();
        services.AddReadinessChecks();
        services.AddSingleton<ReadinessLog>();
        services.AddSingleton<HostMetrics>();
        services.AddSingleton<DashboardFeed>();
        services.AddSingleton<PrometheusExport>();
        services.AddSingleton<NodeStats>();
        services.AddHostedService(provider => provider.GetRequiredService<NodeStats>());
        return services;
    }
}

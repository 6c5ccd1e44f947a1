using System.Net.WebSockets;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;
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
        services.AddSingleton<IClientNotifier, ConnectionNotifier>();
        services.AddSingleton<ClientLimits>();
        services.AddSingleton<IClientLimits>(provider => provider.GetRequiredService<ClientLimits>());
        services.AddSingleton<Admission>();
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

    /// <summary>WebSocket upgrades on <c>/</c> and <c>/ws</c>; a health probe; a hint for plain HTTP visitors.</summary>
    public static WebApplication MapRooms(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<RoomsSettings>();
        var handler = app.Services.GetRequiredService<ConnectionHandler>();
        var registry = app.Services.GetRequiredService<ConnectionRegistry>();
        var readiness = app.Services.GetRequiredService<ReadinessGate>();
        app.Services.GetRequiredService<HostMetrics>();

        // Tell clients the server is going away rather than dropping them.
        app.Lifetime.ApplicationStopping.Register(() => registry.CloseAll(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down"));

        // Behind a reverse proxy (the nginx of deploy/), client_ip is the client's, from X-Forwarded-For; the
        // header is believed only from the proxies in Rooms:TrustedProxies (default: loopback).
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var network in settings.TrustedProxyNetworks())
        {
            forwarded.KnownIPNetworks.Add(network);
        }

        app.UseForwardedHeaders(forwarded);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = settings.KeepAliveInterval, KeepAliveTimeout = settings.KeepAliveTimeout });
        app.Use((context, next) => context.WebSockets.IsWebSocketRequest && context.Request.Path.Value is "/" or "/ws"
            ? readiness.IsOpen ? handler.HandleAsync(context) : ReadinessGate.RefuseAsync(context)
            : next(context));
        // Live: the process answers (what a supervisor restarts on). Ready: it can serve devices (what a load balancer routes on).
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadinessChecks.Tag),
            ResponseWriter = WriteReadinessAsync,
        });
        // Prometheus text format: Rooms' meter, Kestrel's and the runtime's (prometheus-net exports every .NET Meter);
        // under the admin rule unless Admin:PublicMetrics.
        var admin = app.Services.GetRequiredService<AdminSettings>();
        app.UseAdminRuleForMetrics(admin);
        app.MapMetrics("/metrics", app.Services.GetRequiredService<PrometheusExport>().Registry);
        app.UseStaticFiles();
        app.MapAdminApi(admin);
        app.MapGet("/", () => Results.Text(
            "Rooms WebSocket server. Connect a WebSocket client to ws://<host>:<port>/ or /ws.",
            statusCode: StatusCodes.Status426UpgradeRequired));
        return app;
    }

    /// <summary>Each check's status and why, so an operator sees what is missing without reading logs.</summary>
    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        context.RequestServices.GetRequiredService<ReadinessLog>().Observe(report);
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }
}

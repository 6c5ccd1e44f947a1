using System.Net.WebSockets;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;
using Rooms.Application;
using Rooms.Application.Common;
using Rooms.Infrastructure;
using Rooms.Infrastructure.Auth;
using Rooms.Infrastructure.Configuration;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;
using Rooms.WebSocketHost.Admin;
using Rooms.WebSocketHost.Connections;
using Rooms.WebSocketHost.Health;
using Rooms.WebSocketHost.Monitoring;
using Serilog;

namespace Rooms.WebSocketHost;

/// <summary>
/// A Rooms node's composition, as a pair (after eShop's ServiceDefaults): <see cref="AddRoomsDefaults"/> reads and
/// checks every setting and registers the layers; <see cref="MapRoomsDefaults"/> maps the WebSocket endpoints, health,
/// metrics and the admin pages. <see cref="RoomsHost"/> builds a node with them; the CLI verbs live in Cli/.
/// </summary>
public static class RoomsDefaults
{
    /// <summary>Kestrel, logging, every settings section (one line per bad value), and the four layers.</summary>
    public static WebApplicationBuilder AddRoomsDefaults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            // Only when neither --urls nor ASPNETCORE_URLS names an address.
            builder.WebHost.UseUrls(RoomsSettings.DefaultUrl);
        }

        // After a restart every device reconnects at once: with Kestrel's default accept backlog (512) most of
        // their SYNs are dropped and retried a second or more later (measured with the load tool's storm mode).
        // The kernel caps it at net.core.somaxconn.
        builder.WebHost.UseSockets(sockets => sockets.Backlog = RoomsSettings.ListenBacklog);

        // ASP.NET Core's per-request diagnostics keep an Activity alive for as long as a WebSocket stays
        // open; Rooms logs its own connection events, so that category is switched off entirely.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Filter.ByExcluding(IsBindFailureOfTheHost)
            // One line per probe, an Error for each unhealthy one; ReadinessLog logs the changes instead.
            .Filter.ByExcluding(Serilog.Filters.Matching.FromSource(Health.ReadinessLog.HealthCheckServiceCategory)));

        var configuration = builder.Configuration;
        var rooms = SettingsBinder.Bind<RoomsSettings>(configuration, RoomsSettings.SectionName);
        rooms.Validate();
        var database = SettingsBinder.Bind<DatabaseSettings>(configuration, DatabaseSettings.SectionName);
        database.Resolve(providerSet: configuration[$"{DatabaseSettings.SectionName}:{nameof(DatabaseSettings.Provider)}"] is not null, configuration.GetConnectionString("Rooms"));
        database.Validate();
        var cluster = SettingsBinder.Bind<ClusterSettings>(configuration, ClusterSettings.SectionName);
        if (string.IsNullOrEmpty(cluster.NodeId))
        {
            cluster.NodeId = ClusterSettings.DefaultNodeId(ListeningPort(configuration));
        }

        cluster.Validate();
        var auth = SettingsBinder.Bind<AuthSettings>(configuration, AuthSettings.SectionName);
        auth.Validate();
        var admin = SettingsBinder.Bind<Admin.AdminSettings>(configuration, Admin.AdminSettings.SectionName);

        builder.Services
            .AddApplication(new ProtocolSettings(rooms.MaxContentLength, rooms.PresenceEvents, rooms.MaxHistoryPageBytes, rooms.MaxRoomInfoClients, rooms.RoomIdLength, rooms.PresenceWindow))
            .AddInfrastructure(database, cluster, auth)
            .AddWebSocketHost(rooms, admin);
        return builder;
    }

    /// <summary>WebSocket upgrades on <c>/</c> and <c>/ws</c>; a health probe; a hint for plain HTTP visitors.</summary>
    public static WebApplication MapRoomsDefaults(this WebApplication app)
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
        app.MapMetrics("/metrics", app.Services.GetRequiredService<PrometheusExport>().Registry).WithMetadata(new AdminApi.AdminOnly());
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

    /// <summary>The first port the node listens on (--urls, ASPNETCORE_URLS, Kestrel endpoints, or the default), which names the node by default.</summary>
    private static int ListeningPort(IConfiguration configuration)
    {
        var url = configuration[WebHostDefaults.ServerUrlsKey]?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).FirstOrDefault(u => !string.IsNullOrEmpty(u))
            ?? RoomsSettings.DefaultUrl;
        // Kestrel's wildcard hosts (http://*:8765, http://+:8765) are not URIs.
        var parsed = url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
        return Uri.TryCreate(parsed, UriKind.Absolute, out var uri) ? uri.Port : 0;
    }

    /// <summary>The generic host logs a failed bind with its whole stack trace; <see cref="RoomsHost.StartServingAsync"/> says it in one line.</summary>
    private static bool IsBindFailureOfTheHost(Serilog.Events.LogEvent logEvent) =>
        logEvent.Exception is IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException }
        && logEvent.Properties.TryGetValue("SourceContext", out var source)
        && source.ToString() == "\"Microsoft.Extensions.Hosting.Internal.Host\"";
}

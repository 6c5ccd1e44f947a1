using Rooms.Application;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure;
using Rooms.Infrastructure.Auth;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Configuration;
using Rooms.Infrastructure.Persistence;
using Serilog;
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace Rooms.WebSocketHost;

/// <summary>Builds and starts the server; Program.cs and the end-to-end tests share it.</summary>
public static partial class RoomsHost
{
    public const string MigrateCommand = "migrate";

    public const string TokenCommand = "token";

    /// <summary>
    /// <c>token DEVICE_ID [ROOM_ID...]</c>: prints a device token signed with the configured Auth:SigningKey,
    /// valid for Auth:TokenLifetime, restricted to the rooms named (any room when none). What a backend does.
    /// </summary>
    public static int PrintToken(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var positional = args.Skip(1).TakeWhile(a => !a.StartsWith('-')).ToArray();
        if (positional.Length == 0)
        {
            Console.Error.WriteLine("usage: token DEVICE_ID [ROOM_ID...]   (signs with Auth:SigningKey, e.g. Auth__SigningKey=...)");
            return 2;
        }

        var builder = CreateBuilder(args.Skip(1 + positional.Length).ToArray());
        var auth = builder.Configuration.GetSection(AuthSettings.SectionName).Get<AuthSettings>() ?? new AuthSettings();
        if (auth.KeyBytes.Length < AuthSettings.MinimumKeyBytes)
        {
            Console.Error.WriteLine($"Auth:SigningKey must be set and at least {AuthSettings.MinimumKeyBytes} bytes to sign tokens.");
            return 1;
        }

        Console.WriteLine(JwtDeviceAuthenticator.Mint(auth, positional[0], positional[1..], DateTime.UtcNow + auth.TokenLifetime));
        return 0;
    }

    /// <summary>appsettings.json ships beside the binary; relative paths in settings (the SQLite file) stay relative to the working directory.</summary>
    private static WebApplicationBuilder CreateBuilder(string[] args) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args.Where(a => a != MigrateCommand).ToArray(),
        ContentRootPath = AppContext.BaseDirectory,
    });

    /// <param name="overrides">Replaces registrations after Rooms made them (tests swap in a faulty part).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = CreateBuilder(args);
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
            .AddApplication(new ProtocolSettings(rooms.MaxContentLength, rooms.PresenceEvents, rooms.MaxHistoryPageBytes, rooms.MaxRoomInfoClients, rooms.RoomIdLength))
            .AddInfrastructure(database, cluster, auth)
            .AddWebSocketHost(rooms, admin);
        overrides?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapRooms();
        return app;
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

    /// <summary>
    /// Binds the listening addresses first, then prepares the database, then lets devices in. Binding first
    /// means a second instance started on a port already in use stops before it touches anything (it would
    /// otherwise close the live node's connection rows); until the node is ready, upgrades get 503.
    /// </summary>
    /// <returns>0 when the server runs; the process exit code when it must not start.</returns>
    public static async Task<int> StartServingAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RoomsHost));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            LogBindFailed(logger, ex.Message.TrimEnd('.'));
            return 1;
        }

        // SIGTERM while the database is prepared (a migration, a lease wait) ends the start, not the process abruptly.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
        bool prepared;
        try
        {
            prepared = await app.PrepareDatabaseAsync(stopping.Token);
        }
        catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
        {
            LogStoppedWhilePreparing(logger);
            return 0;
        }
        catch (Exception ex) when (IsDatabaseFailure(ex))
        {
            LogDatabaseUnreachable(logger, app.Services.GetRequiredService<DatabaseSettings>().Describe(), Innermost(ex).Message.TrimEnd('.'));
            prepared = false;
        }

        if (!prepared)
        {
            await app.StopAsync(cancellationToken);
            return 1;
        }

        app.Services.GetRequiredService<ReadinessGate>().Open();
        return 0;
    }

    /// <summary>
    /// Brings the schema up to date (or checks it is, when the server may not migrate), closes the
    /// connection rows this node's earlier run left open, and joins the cluster when there is one.
    /// </summary>
    /// <returns>False when the server must not start.</returns>
    private static async Task<bool> PrepareDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var settings = app.Services.GetRequiredService<DatabaseSettings>();
        var migrator = app.Services.GetRequiredService<DatabaseMigrator>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RoomsHost));
        if (settings.MigrateOnStartup)
        {
            await migrator.MigrateAsync(cancellationToken);
        }
        else
        {
            var pending = await migrator.PendingMigrationsAsync(cancellationToken);
            if (pending.Count > 0)
            {
                LogSchemaBehind(logger, string.Join(", ", pending));
                return false;
            }
        }

        var lifecycle = app.Services.GetRequiredService<NodeLifecycle>();
        if (await lifecycle.StartAsync(cancellationToken) is { } refusal)
        {
            LogNodeRefused(logger, refusal);
            return false;
        }

        // A clean stop frees the node id at once (after every connection row is closed); a crash leaves the lease to expire.
        app.Lifetime.ApplicationStopped.Register(() => ReleaseNodeId(lifecycle, logger));
        // On a cluster, the node's own channel carries replacements to this node.
        await app.Services.GetRequiredService<IRoomHub>().ResubscribeAsync();

        var cluster = app.Services.GetRequiredService<ClusterSettings>();
        LogStarted(logger, app.Services.GetRequiredService<NodeIdentity>().NodeId,
            cluster.Enabled ? "Redis" : cluster.AllowSingleNodeOnSharedDatabase ? "none, single node (allowed beside other nodes)" : "none, single node",
            settings.Describe(), settings.ProviderSource);
        return true;
    }

    private static void ReleaseNodeId(NodeLifecycle lifecycle, ILogger logger)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            lifecycle.ReleaseAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is OperationCanceledException || IsDatabaseFailure(ex))
        {
            LogReleaseFailed(logger, Innermost(ex).Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Rooms cannot start: {Reason}")]
    private static partial void LogNodeRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped while the database was being prepared; nothing was served")]
    private static partial void LogStoppedWhilePreparing(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the node id ({Reason}); its next start waits for the lease to expire (Cluster:NodeTimeout)")]
    private static partial void LogReleaseFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Critical,
        Message = "The database schema is behind (pending: {Pending}) and Database:MigrateOnStartup is false. Run 'dotnet run --project src/WebSocketHost -- migrate' first.")]
    private static partial void LogSchemaBehind(ILogger logger, string pending);

    /// <summary>The <c>migrate</c> command: applies pending migrations; 1 with one clear line when the database cannot be reached.</summary>
    public static async Task<int> MigrateAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
            return 0;
        }
        catch (Exception ex) when (IsDatabaseFailure(ex))
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RoomsHost));
            LogDatabaseUnreachable(logger, app.Services.GetRequiredService<DatabaseSettings>().Describe(), Innermost(ex).Message.TrimEnd('.'));
            return 1;
        }
    }

    /// <summary>A wrong password, an unknown host, a stopped server: EF Core wraps them, the cause is inside.</summary>
    private static bool IsDatabaseFailure(Exception exception) =>
        Innermost(exception) is System.Data.Common.DbException or System.Net.Sockets.SocketException or TimeoutException;

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception;
    }

    /// <summary>The generic host logs a failed bind with its whole stack trace; <see cref="StartServingAsync"/> says it in one line.</summary>
    private static bool IsBindFailureOfTheHost(Serilog.Events.LogEvent logEvent) =>
        logEvent.Exception is IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException }
        && logEvent.Properties.TryGetValue("SourceContext", out var source)
        && source.ToString() == "\"Microsoft.Extensions.Hosting.Internal.Host\"";

    [LoggerMessage(Level = LogLevel.Critical, Message = "Rooms cannot use its database ({Database}): {Reason}. Check ConnectionStrings:Rooms and that the server is running.")]
    private static partial void LogDatabaseUnreachable(ILogger logger, string database, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Rooms cannot listen: {Reason}. Nothing was changed; is another server running on that port?")]
    private static partial void LogBindFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} ready (cluster: {Cluster}; storage: {Storage}, provider from {ProviderSource})")]
    private static partial void LogStarted(ILogger logger, string nodeId, string cluster, string storage, string providerSource);
}

using ILogger = Microsoft.Extensions.Logging.ILogger;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;

namespace Rooms.WebSocketHost;

/// <summary>Builds and starts the server; Program.cs and the end-to-end tests share it.</summary>
public static partial class RoomsHost
{
    /// <summary>appsettings.json ships beside the binary; relative paths in settings (the SQLite file) stay relative to the working directory.</summary>
    internal static WebApplicationBuilder CreateBuilder(string[] args) => WebApplication.CreateBuilder(new WebApplicationOptions
    {
        Args = args.Where(a => a != Cli.MigrateCommand.Name).ToArray(),
        ContentRootPath = AppContext.BaseDirectory,
    });

    /// <param name="overrides">Replaces registrations after Rooms made them (tests swap in a faulty part).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? overrides = null)
    {
        var builder = CreateBuilder(args).AddRoomsDefaults();
        overrides?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapRoomsDefaults();
        return app;
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
        catch (Exception ex) when (StorageOutageLog.IsStorageFailure(ex))
        {
            LogDatabaseUnreachable(logger, app.Services.GetRequiredService<DatabaseSettings>().Describe(), ex.GetBaseException().Message.TrimEnd('.'));
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
        LogStarted(logger, app.Services.GetRequiredService<NodeIdentity>().NodeId.Value,
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
        catch (Exception ex) when (ex is OperationCanceledException || StorageOutageLog.IsStorageFailure(ex))
        {
            LogReleaseFailed(logger, ex.GetBaseException().Message);
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

    /// <summary>A wrong password, an unknown host, a stopped server: EF Core wraps them, so the innermost cause is logged.</summary>
    [LoggerMessage(Level = LogLevel.Critical, Message = "Rooms cannot use its database ({Database}): {Reason}. Check ConnectionStrings:Rooms and that the server is running.")]
    internal static partial void LogDatabaseUnreachable(ILogger logger, string database, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Rooms cannot listen: {Reason}. Nothing was changed; is another server running on that port?")]
    private static partial void LogBindFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {NodeId} ready (cluster: {Cluster}; storage: {Storage}, provider {ProviderSource})")]
    private static partial void LogStarted(ILogger logger, string nodeId, string cluster, string storage, string providerSource);
}

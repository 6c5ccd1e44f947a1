using Rooms.Application;
using Rooms.Application.Common;
using Rooms.Infrastructure;
using Rooms.Infrastructure.Persistence;
using Serilog;
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace Rooms.WebSocketHost;

/// <summary>Builds and starts the server; Program.cs and the end-to-end tests share it.</summary>
public static partial class RoomsHost
{
    public const string MigrateCommand = "migrate";

    public static WebApplication Build(string[] args)
    {
        // appsettings.json ships beside the binary; relative paths in settings (the SQLite file) stay relative to the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args.Where(a => a != MigrateCommand).ToArray(),
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            // Only when neither --urls nor ASPNETCORE_URLS names an address.
            builder.WebHost.UseUrls(RoomsSettings.DefaultUrl);
        }

        // ASP.NET Core's per-request diagnostics keep an Activity alive for as long as a WebSocket stays
        // open; Rooms logs its own connection events, so that category is switched off entirely.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services));

        var rooms = builder.Configuration.GetSection(RoomsSettings.SectionName).Get<RoomsSettings>() ?? new RoomsSettings();
        rooms.Validate();
        var database = builder.Configuration.GetSection(DatabaseSettings.SectionName).Get<DatabaseSettings>() ?? new DatabaseSettings();
        var connectionString = builder.Configuration.GetConnectionString("Rooms");
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            database.ConnectionString = connectionString;
        }

        database.Validate();

        builder.Services
            .AddApplication(new ProtocolSettings(rooms.MaxContentLength))
            .AddInfrastructure(database)
            .AddWebSocketHost(rooms);

        var app = builder.Build();
        app.MapRooms();
        return app;
    }

    /// <summary>
    /// Brings the schema up to date (or checks it is, when the server may not migrate), then
    /// closes connection rows an earlier run left open.
    /// </summary>
    /// <returns>False when the server must not start.</returns>
    public static async Task<bool> PrepareDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
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

        var repository = app.Services.GetRequiredService<Application.Ports.IRoomRepository>();
        var closed = await repository.CloseOpenConnectionsAsync(DateTime.UtcNow, cancellationToken);
        if (closed > 0)
        {
            LogClosedStale(logger, closed);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Critical,
        Message = "The database schema is behind (pending: {Pending}) and Database:MigrateOnStartup is false. Run 'dotnet run --project src/WebSocketHost -- migrate' first.")]
    private static partial void LogSchemaBehind(ILogger logger, string pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed {Count} connection rows left open by an earlier run")]
    private static partial void LogClosedStale(ILogger logger, int count);
}

using Rooms.Application.Common;
using Rooms.Infrastructure.Persistence;

namespace Rooms.WebSocketHost.Cli;

/// <summary><c>migrate</c>: what CI and deploys run before a node starts.</summary>
public static class MigrateCommand
{
    public const string Name = "migrate";

    /// <summary>The <c>migrate</c> command: applies pending migrations; 1 with one clear line when the database cannot be reached.</summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
            return 0;
        }
        catch (Exception ex) when (StorageOutageLog.IsStorageFailure(ex))
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RoomsHost));
            RoomsHost.LogDatabaseUnreachable(logger, app.Services.GetRequiredService<DatabaseSettings>().Describe(), ex.GetBaseException().Message.TrimEnd('.'));
            return 1;
        }
    }
}

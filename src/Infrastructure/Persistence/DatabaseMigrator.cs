using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Rooms.Infrastructure.Persistence;

/// <summary>Applies the EF Core migrations that own the schema (never EnsureCreated).</summary>
public sealed partial class DatabaseMigrator(
    DatabaseGate database,
    DatabaseSettings settings,
    ILogger<DatabaseMigrator> logger)
{
    public async Task<IReadOnlyList<string>> PendingMigrationsAsync(CancellationToken cancellationToken)
    {
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        return [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            LogApplying(settings.Provider.ToString(), string.Join(", ", pending));
            await db.Database.MigrateAsync(cancellationToken);
        }

        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets readers (operators' queries) run beside the writer; it is a property of the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        LogUpToDate(settings.Provider.ToString());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Provider} migrations: {Migrations}")]
    private partial void LogApplying(string provider, string migrations);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} schema is up to date")]
    private partial void LogUpToDate(string provider);
}

using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Rooms.Infrastructure.Persistence;

public static class DatabaseProviderSetup
{
    public const string SqliteMigrationsAssembly = "Rooms.Migrations.Sqlite";
    public const string MySqlMigrationsAssembly = "Rooms.Migrations.MySql";

    /// <summary>Points a context at the configured provider and that provider's migrations assembly.</summary>
    public static DbContextOptionsBuilder UseRoomsDatabase(this DbContextOptionsBuilder options, DatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        // A failed command is the outage Rooms reports itself, once (StorageOutageLog); EF Core would log
        // each one as an error with its stack trace.
        options.ConfigureWarnings(w => w.Log(
            (RelationalEventId.CommandError, LogLevel.Debug),
            (RelationalEventId.ConnectionError, LogLevel.Debug),
            (RelationalEventId.TransactionError, LogLevel.Debug),
            (CoreEventId.SaveChangesFailed, LogLevel.Debug),
            (CoreEventId.QueryIterationFailed, LogLevel.Debug)));
        return settings.Provider switch
        {
            DatabaseProvider.Sqlite => options.UseSqlite(
                settings.ConnectionString, sqlite => sqlite.MigrationsAssembly(SqliteMigrationsAssembly)),
            DatabaseProvider.MySql => options.UseMySql(
                BoundedPool(settings),
                ServerVersion.Parse(settings.MySqlServerVersion),
                mySql => mySql.MigrationsAssembly(MySqlMigrationsAssembly)),
            _ => throw new InvalidOperationException($"Unknown Database:Provider '{settings.Provider}'. Use Sqlite or MySql."),
        };
    }

    /// <summary>
    /// The connection string with <see cref="DatabaseSettings.MaxPoolSize"/> as its pool limit and without the
    /// per-checkout reset, unless it sets these itself. Past the limit, work waits for a connection instead of opening more: a burst of connects
    /// on one node must not use up the server's <c>max_connections</c> (151 by default) for every other node.
    /// </summary>
    public static string BoundedPool(DatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = new MySqlConnectionStringBuilder(settings.ConnectionString);
        if (!settings.ConnectionString.Contains("pool size", StringComparison.OrdinalIgnoreCase)
            && !settings.ConnectionString.Contains("maxpoolsize", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaximumPoolSize = (uint)settings.MaxPoolSize;
        }

        if (!settings.ConnectionString.Contains("connection reset", StringComparison.OrdinalIgnoreCase)
            && !settings.ConnectionString.Contains("connectionreset", StringComparison.OrdinalIgnoreCase))
        {
            // Rooms keeps no session state on a connection (no temporary tables, no session variables), so the
            // reset round trip MySqlConnector makes on every checkout from the pool buys nothing: measured, it was
            // a tenth of the server's time in a reconnect storm.
            builder.ConnectionReset = false;
        }

        return builder.ConnectionString;
    }

    /// <summary>A context outside dependency injection: design-time tools, tests, one-off tasks.</summary>
    public static RoomsDbContext CreateContext(DatabaseSettings settings)
    {
        var options = new DbContextOptionsBuilder<RoomsDbContext>();
        options.UseRoomsDatabase(settings);
        return new RoomsDbContext(options.Options);
    }

    /// <summary>SQLite creates the file on first use, but not its folder.</summary>
    internal static void EnsureSqliteFolder(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var folder = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(folder) && dataSource != ":memory:")
        {
            Directory.CreateDirectory(folder);
        }
    }
}

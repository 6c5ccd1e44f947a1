using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

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
        return settings.Provider switch
        {
            DatabaseProvider.Sqlite => options.UseSqlite(
                settings.ConnectionString, sqlite => sqlite.MigrationsAssembly(SqliteMigrationsAssembly)),
            DatabaseProvider.MySql => options.UseMySql(
                settings.ConnectionString,
                ServerVersion.Parse(settings.MySqlServerVersion),
                mySql => mySql.MigrationsAssembly(MySqlMigrationsAssembly)),
            _ => throw new InvalidOperationException($"Unknown Database:Provider '{settings.Provider}'. Use Sqlite or MySql."),
        };
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

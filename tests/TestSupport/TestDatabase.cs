using Rooms.Infrastructure.Persistence;

namespace Rooms.TestSupport;

/// <summary>A fresh, empty database of one provider: a temp SQLite file or a new MariaDB database.</summary>
public sealed class TestDatabase : IDisposable
{
    private readonly string? _sqliteFolder;

    private TestDatabase(DatabaseSettings settings, string? sqliteFolder)
    {
        Settings = settings;
        _sqliteFolder = sqliteFolder;
    }

    public DatabaseSettings Settings { get; }

    public DatabaseProvider Provider => Settings.Provider;

    public string ConnectionString => Settings.ConnectionString;

    /// <summary>A new database on <paramref name="server"/> (a private one a test may stop and kill).</summary>
    public static TestDatabase OnServer(MariaDbServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new TestDatabase(new DatabaseSettings
        {
            Provider = DatabaseProvider.MySql,
            ConnectionString = server.CreateDatabase(),
            MySqlServerVersion = "10.11.0-mariadb",
        }, null);
    }

    public static TestDatabase Create(DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.MySql)
        {
            return OnServer(MariaDbServer.Shared);
        }

        var folder = Path.Combine(Path.GetTempPath(), "rooms-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return new TestDatabase(new DatabaseSettings
        {
            Provider = DatabaseProvider.Sqlite,
            ConnectionString = $"Data Source={Path.Combine(folder, "rooms.db")}",
        }, folder);
    }

    /// <summary>A context for reading rows back (and for arranging rows a test needs).</summary>
    public RoomsDbContext OpenContext() => DatabaseProviderSetup.CreateContext(Settings);

    public void Dispose()
    {
        if (_sqliteFolder is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_sqliteFolder, recursive: true);
        }
    }
}

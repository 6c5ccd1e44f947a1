namespace Rooms.Infrastructure.Persistence;

public enum DatabaseProvider
{
    /// <summary>The embedded default: a file, no server to run.</summary>
    Sqlite,

    /// <summary>MySQL or MariaDB through Pomelo.</summary>
    MySql,
}

/// <summary>The <c>Database</c> configuration section.</summary>
public sealed class DatabaseSettings
{
    public const string SectionName = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary><c>ConnectionStrings:Rooms</c>; the embedded default when empty.</summary>
    public string ConnectionString { get; set; } = DefaultSqliteConnectionString;

    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>The MySQL server the SQL is written for, e.g. <c>8.0.36-mysql</c> or <c>10.11.6-mariadb</c>. Fixed rather than detected, so tools work without a live server.</summary>
    public string MySqlServerVersion { get; set; } = DefaultMySqlServerVersion;

    /// <summary>MySQL/MariaDB connections this node opens at most (unless the connection string sets <c>Maximum Pool Size</c>); more work waits.</summary>
    public int MaxPoolSize { get; set; } = 32;

    /// <summary>At most this many messages per group-commit transaction.</summary>
    public int MessageBatchSize { get; set; } = 256;

    /// <summary>Messages waiting for the writer before senders wait too (back-pressure).</summary>
    public int MessageQueueCapacity { get; set; } = 10_000;

    /// <summary>How long a client message id is remembered: a resend within it gets the first send's ack, nothing stored twice.</summary>
    public TimeSpan ClientMessageIdWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Seven parameters per row must stay under SQLite's (32 766) and MySQL's (65 535) placeholder limits.</summary>
    public const int MaxMessageBatchSize = 1000;

    public void Validate()
    {
        if (MessageBatchSize is < 1 or > MaxMessageBatchSize)
        {
            throw new InvalidOperationException($"Database:MessageBatchSize must be between 1 and {MaxMessageBatchSize}");
        }

        if (MaxPoolSize is < 2 or > 1000)
        {
            throw new InvalidOperationException("Database:MaxPoolSize must be between 2 and 1000");
        }

        if (MessageQueueCapacity < 1)
        {
            throw new InvalidOperationException("Database:MessageQueueCapacity must be at least 1");
        }

        if (ClientMessageIdWindow <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Database:ClientMessageIdWindow must be positive");
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new InvalidOperationException("ConnectionStrings:Rooms is empty");
        }
    }

    public const string DefaultSqliteConnectionString = "Data Source=data/rooms.db";

    /// <summary>Which database this is, for logs: the server and database name, or the SQLite file's full path; never the password.</summary>
    public string Describe()
    {
        if (Provider == DatabaseProvider.Sqlite)
        {
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
            return $"SQLite file {Path.GetFullPath(file)}";
        }

        var mySql = new MySqlConnector.MySqlConnectionStringBuilder(ConnectionString);
        return $"MySQL server {mySql.Server}:{mySql.Port}, database '{mySql.Database}', user '{mySql.UserID}'";
    }

    public const string DefaultMySqlServerVersion = "8.0.36-mysql";
}

using System.Data.Common;
using Rooms.Infrastructure.Configuration;
using static Rooms.Infrastructure.Configuration.SettingsBinder;

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

    /// <summary>When not set, inferred from the connection string (<see cref="Resolve"/>).</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary><c>ConnectionStrings:Rooms</c>; the embedded default when empty and the provider is SQLite.</summary>
    public string ConnectionString { get; set; } = DefaultSqliteConnectionString;

    /// <summary>How the provider was chosen, for the ready line ("provider ..."): set, the default, or inferred from the connection string.</summary>
    public string ProviderSource { get; private set; } = "set by Database:Provider";

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

    /// <summary>Closed <c>connections</c> rows older than this (by <c>disconnected_at</c>) are deleted; unset keeps them for ever (the seed's trail).</summary>
    public TimeSpan? RetainConnections { get; set; }

    /// <summary><c>messages</c> older than this (by <c>sent_at</c>) are deleted, and history no longer has them; unset keeps them for ever.</summary>
    public TimeSpan? RetainMessages { get; set; }

    /// <summary><c>room_queries</c> rows older than this are deleted; unset keeps them for ever.</summary>
    public TimeSpan? RetainRoomQueries { get; set; }

    /// <summary>Rows one retention DELETE removes at most, so it never holds locks long enough to stall the writers.</summary>
    public int RetentionBatchSize { get; set; } = 1_000;

    /// <summary>Seven parameters per row must stay under SQLite's (32 766) and MySQL's (65 535) placeholder limits.</summary>
    public const int MaxMessageBatchSize = 1000;

    /// <summary>
    /// Settles the provider and connection string: the provider, when not set (<paramref name="providerSet"/> false),
    /// is inferred from the connection string; a connection string that does not fit the provider stops the start
    /// with one line saying what to set.
    /// </summary>
    public void Resolve(bool providerSet, string? connectionString)
    {
        var named = !string.IsNullOrWhiteSpace(connectionString);
        var server = named && NamesAServer(connectionString!);
        if (!providerSet && server)
        {
            Provider = DatabaseProvider.MySql;
            ProviderSource = "inferred from the connection string (set Database:Provider to silence this)";
        }
        else if (!providerSet)
        {
            ProviderSource = "by default (Database:Provider unset)";
        }

        if (Provider == DatabaseProvider.MySql)
        {
            Require(named, "Database:Provider is MySql but ConnectionStrings:Rooms is not set; set it, e.g. ConnectionStrings__Rooms=\"Server=127.0.0.1;Database=websocketdata;User=websocketdata;Password=...\"");
            Require(server, "Database:Provider is MySql but ConnectionStrings:Rooms names no server (Server=host;Database=...;User=...;Password=...)");
        }
        else if (named)
        {
            Require(!server && IsSqlite(connectionString!),
                "ConnectionStrings:Rooms names a database server but Database:Provider is Sqlite; for MySQL or MariaDB set Database__Provider=MySql");
        }

        ConnectionString = named ? connectionString! : DefaultSqliteConnectionString;
    }

    public void Validate()
    {
        Require(MessageBatchSize is >= 1 and <= MaxMessageBatchSize, $"Database:MessageBatchSize must be between 1 and {MaxMessageBatchSize}");
        Require(MaxPoolSize is >= 2 and <= 1000, "Database:MaxPoolSize must be between 2 and 1000");
        Require(MessageQueueCapacity >= 1, "Database:MessageQueueCapacity must be at least 1");
        Require(ClientMessageIdWindow > TimeSpan.Zero, "Database:ClientMessageIdWindow must be positive");
        Require(RetentionBatchSize is >= 1 and <= 100_000, "Database:RetentionBatchSize must be between 1 and 100000");
        foreach (var (name, value) in new[] { ("RetainConnections", RetainConnections), ("RetainMessages", RetainMessages), ("RetainRoomQueries", RetainRoomQueries) })
        {
            Require(value is null || value >= TimeSpan.FromMinutes(1), $"Database:{name} must be at least 00:01:00, or unset to keep every row");
        }

        // A resend must find its first send: a message may not be deleted while its client id is remembered.
        Require(RetainMessages is null || RetainMessages > ClientMessageIdWindow,
            "Database:RetainMessages must be longer than Database:ClientMessageIdWindow (a resend must still find the message it repeats)");
        Require(!string.IsNullOrWhiteSpace(ConnectionString), "ConnectionStrings:Rooms is empty");
    }

    public const string DefaultSqliteConnectionString = "Data Source=data/rooms.db";

    /// <summary>Free space a SQLite database's file system must have for writes to count as working again after an outage.</summary>
    public const long MinimumFreeBytes = 16L * 1024 * 1024;

    /// <summary>
    /// Bytes free where the SQLite file lives (null on MySQL, whose disk is the server's). A small write (a heartbeat)
    /// can succeed on a full disk by reusing the write-ahead log's space while every message fails: measured with the
    /// probe's 40 MB tmpfs, so free space is part of "writes work" on SQLite.
    /// </summary>
    public long? FreeBytes()
    {
        if (Provider != DatabaseProvider.Sqlite)
        {
            return null;
        }

        var file = Path.GetFullPath(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource);
        try
        {
            return new DriveInfo(Path.GetDirectoryName(file) ?? file).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

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

    /// <summary>Keywords only a server's connection string has (MySqlConnector also reads <c>Data Source</c> as the host, so that one says nothing).</summary>
    private static readonly string[] ServerKeywords = ["server", "host", "port", "user", "uid", "user id", "username", "database"];

    private static bool NamesAServer(string connectionString)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            throw new InvalidSettingException("ConnectionStrings:Rooms is not a connection string (key=value;key=value)");
        }

        return ServerKeywords.Any(builder.ContainsKey);
    }

    private static bool IsSqlite(string connectionString)
    {
        try
        {
            _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>The server as users run it: its own process, configured only by environment variables.</summary>
public sealed class HostProcessTests : IDisposable
{
    private readonly string _workDir = Directory.CreateTempSubdirectory("rooms-host-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_workDir, recursive: true);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task MigrateCommand_EmptyDatabase_AppliesMigrationsAndExitsZero(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);

        var (exitCode, output) = await RunToExitAsync(["migrate"], DatabaseEnvironment(database));

        Assert.True(exitCode == 0, output);
        await using var db = database.OpenContext();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    /// <summary>The newcomer's --help started a node on the production database and stayed up for 10 minutes.</summary>
    [Theory]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("-h")]
    public async Task Help_PrintsTheVerbsAndKeySettings_AndStartsNothing(string word)
    {
        using var database = TestDatabase.Create(DatabaseProvider.Sqlite);

        var (exitCode, output) = await RunToExitAsync([word], DatabaseEnvironment(database));

        Assert.Equal(0, exitCode);
        Assert.Contains("usage: Rooms.WebSocketHost", output);
        Assert.Contains("migrate", output);
        Assert.Contains("token DEVICE_ID", output);
        Assert.Contains("ConnectionStrings__Rooms", output);
        Assert.DoesNotContain("ready", output);
    }

    [Theory]
    [InlineData("migrat")]
    [InlineData("serve")]
    public async Task AnUnknownVerb_RefusedWithOneLine_AndStartsNothing(string word)
    {
        using var database = TestDatabase.Create(DatabaseProvider.Sqlite);

        var (exitCode, output) = await RunToExitAsync([word], DatabaseEnvironment(database));

        Assert.Equal(2, exitCode);
        Assert.Contains($"Rooms: unknown command '{word}' (commands: migrate, token; --help for the usage). Nothing was started.", output);
        Assert.DoesNotContain("ready", output);
    }

    [Fact]
    public async Task Start_SchemaBehindAndMigrationDisabled_RefusesWithClearMessage()
    {
        using var database = TestDatabase.Create(DatabaseProvider.Sqlite);
        var environment = DatabaseEnvironment(database);
        environment["Database__MigrateOnStartup"] = "false";
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{MariaDbServer.FreePort()}";

        var (exitCode, output) = await RunToExitAsync([], environment);

        Assert.Equal(1, exitCode);
        Assert.Contains("schema is behind", output);
        Assert.Contains("-- migrate", output);
    }

    [Fact]
    public async Task Start_NoConfiguration_EmbeddedSqliteServesAndCrashRowsAreClosedOnRestart()
    {
        var port = MariaDbServer.FreePort();
        // A short lease, so the restart after the crash does not wait the default 30 s for it to expire.
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Cluster__HeartbeatInterval"] = "00:00:00.500",
            ["Cluster__NodeTimeout"] = "00:00:02",
        };

        string output;
        using (var server = Start([], environment))
        {
            await WaitForHealthAsync(port, server);
            await using var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
            await client.ReceiveAsync();
            Assert.Equal("created_new", (await client.IdentifyAsync("crash_test")).GetProperty("status").GetString());

            server.Process.Kill(entireProcessTree: true);
            await server.Process.WaitForExitAsync();
            output = server.Output;
        }

        var file = Path.Combine(_workDir, "data", "rooms.db");
        Assert.True(File.Exists(file), "the embedded default creates data/rooms.db under the working directory");
        Assert.Contains($"storage: SQLite file {file}", output);
        var embedded = new DatabaseSettings { ConnectionString = $"Data Source={file}" };
        Assert.Equal(1, await CountOpenConnectionsAsync(embedded));

        using (var restarted = Start([], environment))
        {
            await WaitForHealthAsync(port, restarted);
            Assert.Equal(0, await CountOpenConnectionsAsync(embedded));
            restarted.Process.Kill(entireProcessTree: true);
            await restarted.Process.WaitForExitAsync();
        }
    }

    /// <summary>A single SQLite node restarted after a crash waited ~20 s for its own lease; its process is provably gone.</summary>
    [Fact]
    public async Task Start_SqliteNodeAfterACrash_TakesItsOwnLeaseOverAtOnce()
    {
        var port = MariaDbServer.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Cluster__NodeTimeout"] = "00:01:00",
        };

        using (var server = Start([], environment))
        {
            await WaitForHealthAsync(port, server);
            server.Process.Kill(entireProcessTree: true);
            await server.Process.WaitForExitAsync();
        }

        var restartedAt = System.Diagnostics.Stopwatch.StartNew();
        using var restarted = Start([], environment);
        await WaitForHealthAsync(port, restarted);

        // Well inside the crashed run's 60 s lease (the bound allows for a loaded machine's process start).
        Assert.True(restartedAt.Elapsed < TimeSpan.FromSeconds(25), restarted.Output);
        Assert.Contains("at once", restarted.Output);
        Assert.Contains("no process on this host holds this node id's lock file", restarted.Output);
        restarted.Process.Kill(entireProcessTree: true);
        await restarted.Process.WaitForExitAsync();
    }

    [Fact]
    public async Task Start_PortAlreadyInUse_ExitsOneWithOneLineAndLeavesTheLiveServersRowsAlone()
    {
        var port = MariaDbServer.FreePort();
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}", ["Cluster__NodeId"] = "same-node" };
        using var live = Start([], environment);
        await WaitForHealthAsync(port, live);
        await using var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await client.ReceiveAsync();
        await client.IdentifyAsync("still_here");

        var (exitCode, output) = await RunToExitAsync([], environment);

        Assert.Equal(1, exitCode);
        Assert.Contains("Rooms cannot listen", output);
        Assert.DoesNotContain("   at ", output);
        var embedded = new DatabaseSettings { ConnectionString = $"Data Source={Path.Combine(_workDir, "data", "rooms.db")}" };
        Assert.Equal(1, await CountOpenConnectionsAsync(embedded));
        Assert.Equal(1, (await client.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WrongDatabasePassword_StartAndMigrateExitOneWithOneClearLine(bool migrate)
    {
        using var database = TestDatabase.Create(DatabaseProvider.MySql);
        var environment = DatabaseEnvironment(database);
        environment["ConnectionStrings__Rooms"] = new MySqlConnector.MySqlConnectionStringBuilder(database.ConnectionString) { Password = "not-the-password" }.ConnectionString;
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{MariaDbServer.FreePort()}";

        var (exitCode, output) = await RunToExitAsync(migrate ? ["migrate"] : [], environment);

        Assert.Equal(1, exitCode);
        Assert.Contains("Rooms cannot use its database (MySQL server 127.0.0.1:", output);
        Assert.Contains("Access denied", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("not-the-password", output);
    }

    /// <summary>Each kind of mistake in configuration: one line naming the setting and what it accepts, exit 1, no stack trace.</summary>
    [Theory]
    [InlineData("Database__Provider", "MariaDB", "Database:Provider must be one of Sqlite, MySql (got 'MariaDB')")]
    [InlineData("Database__Provider", "MySql", "Database:Provider is MySql but ConnectionStrings:Rooms is not set")]
    [InlineData("Rooms__IdentifyTimeout", "10", "Rooms:IdentifyTimeout must be a duration written [d.]hh:mm:ss[.fff], e.g. 00:00:10")]
    [InlineData("Rooms__KeepAliveTimeout", "soon", "Rooms:KeepAliveTimeout must be a duration")]
    [InlineData("Rooms__CloseTimeout", "-00:00:01", "Rooms:CloseTimeout must be positive")]
    [InlineData("Rooms__MaxConnections", "-5", "Rooms:MaxConnections must be at least 1")]
    [InlineData("Rooms__MaxConnectionsPerIp", "lots", "Rooms:MaxConnectionsPerIp must be a whole number (got 'lots')")]
    [InlineData("Rooms__PresenceEvents", "yes", "Rooms:PresenceEvents must be true or false (got 'yes')")]
    [InlineData("Auth__Mode", "Jwt", "Auth:Mode must be one of None, Token (got 'Jwt')")]
    [InlineData("Rooms__TrustedProxies__0", "nginx.local", "Rooms:TrustedProxies must list IP addresses or CIDR networks")]
    [InlineData("Cluster__NodeId", "my node", "Cluster:NodeId must be 1-64 characters")]
    [InlineData("Cluster__NodeTimeout", "00:00:06", "Cluster:NodeTimeout must be more than twice Cluster:HeartbeatInterval")]
    [InlineData("Database__RetainMessages", "00:10:00", "Database:RetainMessages must be longer than Database:ClientMessageIdWindow")]
    [InlineData("Database__MaxPoolSize", "0", "Database:MaxPoolSize must be between 2 and 1000")]
    public async Task Start_SettingOutOfItsRange_OneLineNamingItAndWhatItAccepts(string name, string value, string expected)
    {
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{MariaDbServer.FreePort()}", [name] = value };

        var (exitCode, output) = await RunToExitAsync([], environment);

        Assert.Equal(1, exitCode);
        Assert.Equal($"Rooms cannot start: {expected}", output.Trim()[..$"Rooms cannot start: {expected}".Length]);
        Assert.Single(output.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(_workDir, "data")), "nothing is created before the settings are accepted");
    }

    [Fact]
    public async Task Start_MySqlConnectionStringWithProviderLeftOut_InfersMySqlAndSaysSo()
    {
        using var database = TestDatabase.Create(DatabaseProvider.MySql);
        var port = MariaDbServer.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ConnectionStrings__Rooms"] = database.ConnectionString,
            ["Database__MySqlServerVersion"] = database.Settings.MySqlServerVersion,
        };

        using var server = Start([], environment);
        await WaitForHealthAsync(port, server);

        Assert.Contains("storage: MySQL server 127.0.0.1:", server.Output);
        Assert.Contains("provider inferred from the connection string (set Database:Provider to silence this)", server.Output);
        await using var db = database.OpenContext();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Start_MySqlConnectionStringWithProviderSqlite_OneLineSayingToSetTheProvider()
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{MariaDbServer.FreePort()}",
            ["Database__Provider"] = "Sqlite",
            ["ConnectionStrings__Rooms"] = "Server=127.0.0.1;Database=rooms;User=rooms;Password=secret",
        };

        var (exitCode, output) = await RunToExitAsync([], environment);

        Assert.Equal(1, exitCode);
        Assert.Contains("Rooms cannot start: ConnectionStrings:Rooms names a database server but Database:Provider is Sqlite; for MySQL or MariaDB set Database__Provider=MySql", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("secret", output);
    }

    /// <summary>deploy/rooms.env.example as an operator fills it in: its settings start a node (only the secrets and addresses changed).</summary>
    [Fact]
    public async Task DeployEnvTemplate_WithItsPlaceholdersFilledIn_StartsANode()
    {
        using var database = TestDatabase.Create(DatabaseProvider.MySql);
        var port = MariaDbServer.FreePort();
        var environment = File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "deploy", "rooms.env.example"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal("MySql", environment["Database__Provider"]);
        Assert.StartsWith("http://127.0.0.1:", environment["ASPNETCORE_URLS"]);
        environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        environment["ConnectionStrings__Rooms"] = database.ConnectionString;

        using var server = Start([], environment);
        await WaitForHealthAsync(port, server);

        Assert.Contains("storage: MySQL server 127.0.0.1:", server.Output);
    }

    [Fact]
    public async Task Logs_DatedWithMilliseconds_OneLinePerDisconnectWithSession_MalformedFramesDoNotFlood()
    {
        var port = MariaDbServer.FreePort();
        using var server = Start([], new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
        await WaitForHealthAsync(port, server);
        await using (var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
        {
            await client.ReceiveAsync();
            await client.IdentifyAsync("log_probe");
            for (var i = 0; i < 50; i++)
            {
                await client.SendAsync("not json");
                await client.ExpectErrorAsync("Invalid JSON");
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        // The close line comes after the identify line: wait for it, not for the first mention of the device.
        while (!server.Output.Split('\n').Any(l => l.Contains("closed", StringComparison.Ordinal) && l.Contains("device log_probe", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, server.Output);
            await Task.Delay(100);
        }

        var lines = server.Output.Split('\n');
        Assert.Matches(@"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} INF\] ", lines.First(l => l.Contains("ready", StringComparison.Ordinal)));
        var session = System.Text.RegularExpressions.Regex.Match(lines.Single(l => l.Contains("device log_probe (", StringComparison.Ordinal)), @"Session (\d+):").Groups[1].Value;
        Assert.Single(lines, l => l.Contains($"Session {session} from", StringComparison.Ordinal) && l.Contains("closed", StringComparison.Ordinal) && l.Contains("device log_probe", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("left room", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("malformed frame", StringComparison.Ordinal));
    }

    /// <summary>A client repeating a mistake (the probe's flood) costs the log a line per kind per 10 s, and its text is cut.</summary>
    [Fact]
    public async Task Logs_RepeatedClientMistakes_SampledNotOneLinePerFrame_ClientTextCut()
    {
        var port = MariaDbServer.FreePort();
        using var server = Start([], new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
        await WaitForHealthAsync(port, server);
        await using (var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
        {
            await client.ReceiveAsync();
            await client.IdentifyAsync("flooder");
            for (var i = 0; i < 60; i++)
            {
                await client.SendObjectAsync(new { type = "message", content = "x", target_device_id = "nobody" });
                await client.ExpectErrorAsync("Target device not found");
                await client.SendObjectAsync(new { type = "message", content = "" });
                await client.ExpectErrorAsync("'content'");
            }

            await client.SendObjectAsync(new { type = new string('T', 60_000) });
            await client.ExpectErrorAsync("Unknown message type");
        }

        await Eventually.TrueAsync(() => Task.FromResult(server.Output.Contains("device flooder, room", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        var lines = server.Output.Split('\n');
        Assert.InRange(lines.Count(l => l.Contains("not connected in room", StringComparison.Ordinal)), 1, 2);
        Assert.InRange(lines.Count(l => l.Contains("Rejected SendMessageCommand", StringComparison.Ordinal)), 1, 2);
        Assert.All(lines, l => Assert.True(l.Length < 2_000, $"a log line of {l.Length} characters"));
    }

    [Fact]
    public async Task StatusLine_EveryInterval_LogsConnectionsRoomsAndDevices()
    {
        var port = MariaDbServer.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Rooms__StatusInterval"] = "00:00:00.500",
        };
        using var server = Start([], environment);
        await WaitForHealthAsync(port, server);
        await using var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/ws"));
        await client.ReceiveAsync();
        var roomId = (await client.IdentifyAsync("status_probe")).GetProperty("room_id").GetString();

        var expected = $"Status: 1 connections, 1 active rooms, devices by room {{\"{roomId}\": [\"status_probe\"]}}";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!server.Output.Contains(expected, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no status line '{expected}' in:\n{server.Output}");
            await Task.Delay(100);
        }

        Assert.Contains(" INF] ", server.Output.Split('\n').First(l => l.Contains(expected, StringComparison.Ordinal)));
    }

    private static async Task<int> CountOpenConnectionsAsync(DatabaseSettings settings)
    {
        await using var db = DatabaseProviderSetup.CreateContext(settings);
        return await db.Connections.CountAsync(c => c.DisconnectedAt == null);
    }

    private static Dictionary<string, string> DatabaseEnvironment(TestDatabase database) => new()
    {
        ["Database__Provider"] = database.Provider.ToString(),
        ["ConnectionStrings__Rooms"] = database.ConnectionString,
        ["Database__MySqlServerVersion"] = database.Settings.MySqlServerVersion,
    };

    private HostProcess Start(string[] args, Dictionary<string, string> environment) => HostProcess.Start(_workDir, args, environment);

    private async Task<(int ExitCode, string Output)> RunToExitAsync(string[] args, Dictionary<string, string> environment)
    {
        using var host = Start(args, environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await host.Process.WaitForExitAsync(timeout.Token);
        return (host.Process.ExitCode, host.Output);
    }

    private static Task WaitForHealthAsync(int port, HostProcess server) => server.WaitForHealthAsync(port);
}

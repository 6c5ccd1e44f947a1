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
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" };

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
        while (!server.Output.Contains("device log_probe", StringComparison.Ordinal))
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

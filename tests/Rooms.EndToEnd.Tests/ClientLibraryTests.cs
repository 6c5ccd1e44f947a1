using System.Diagnostics;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The client libraries (clients/js, clients/python) against real servers: their own unit tests, then their integration script
/// (chat, direct, presence, history both ways, catch-up after a restart, 4001, 4003) with ROOMS_URL and
/// ROOMS_AUTH_URL naming an open server and one that requires device tokens.
/// </summary>
public sealed class ClientLibraryTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private readonly TestDatabase _authDatabase = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;
    private RoomsServer _authServer = null!;

    public async Task InitializeAsync()
    {
        _server = await RoomsServer.StartAsync(_database, RoomsServer.Unthrottled);
        _authServer = await RoomsServer.StartAsync(_authDatabase, "--Auth:Mode=Token", "--Auth:SigningKey=client-library-tests-key-0123456789abcdef");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _authServer.DisposeAsync();
        _database.Dispose();
        _authDatabase.Dispose();
    }

    [Fact]
    public async Task JavaScript_UnitTestsOfTheStateMachinePass()
    {
        var (exit, output) = await RunAsync("/usr/bin/node", ["--test", Path.Combine(Client("js"), "test")]);
        Assert.True(exit == 0, output);
        Assert.Contains("# fail 0", output);
    }

    [Fact]
    public async Task JavaScript_AgainstARealServer_ChatHistoryCatchUpReplacedAndRefused()
    {
        var (exit, output) = await RunAsync("/usr/bin/node", ["--experimental-websocket", Path.Combine(Client("js"), "integration", "run.mjs")]);
        Assert.True(exit == 0, output);
        foreach (var check in new[]
        {
            "ok two devices chat", "ok direct message", "ok history pages backward and forward", "ok catch-up after a restart",
            "ok replaced (4001)", "ok refused token (4003)", "all passed",
        })
        {
            Assert.Contains(check, output);
        }
    }

    [Fact]
    public async Task Python_UnitTestsOfTheStateMachinePass()
    {
        var (exit, output) = await RunAsync("/usr/bin/python3", ["-m", "unittest", "discover", "-s", "tests", "-v"], Client("python"));
        Assert.True(exit == 0, output);
        Assert.Contains("OK", output);
    }

    [Fact]
    public async Task Python_AgainstARealServer_ChatHistoryCatchUpReplacedAndRefused()
    {
        var (exit, output) = await RunAsync("/usr/bin/python3", [Path.Combine(Client("python"), "integration", "run.py")]);
        Assert.True(exit == 0, output);
        foreach (var check in new[]
        {
            "ok two devices chat", "ok direct message", "ok history pages backward and forward", "ok catch-up after a restart",
            "ok replaced (4001)", "ok refused token (4003)", "all passed",
        })
        {
            Assert.Contains(check, output);
        }
    }

    private static string Client(string language) => Path.Combine(RepositoryRoot.Path, "clients", language);

    private async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ROOMS_URL"] = _server.WebSocketUri().ToString();
        start.Environment["ROOMS_AUTH_URL"] = _authServer.WebSocketUri().ToString();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await output + await errors);
    }
}

using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The README's client examples (on the client libraries), run as a user runs them (Node.js 20 with --experimental-websocket; Debian's python3
/// with python3-websockets, which test.sh installs) against a server on a port of its own, named by ROOMS_URL.
/// </summary>
public sealed class ExamplesTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task JavaScriptThenPythonExample_JoinOneRoomThroughRoomsUrl_EachGetsItsAckAndTheOthersDirectMessage()
    {
        var (jsExit, js) = await RunAsync("/usr/bin/node", ["--experimental-websocket", Example("client.mjs"), "js-example"]);
        Assert.True(jsExit == 0, js);
        var roomId = System.Text.RegularExpressions.Regex.Match(js, "room_id: '([A-Z0-9]+)'").Groups[1].Value;
        Assert.NotEmpty(roomId);
        Assert.Contains("stored as message 1, sent to 0 devices", js);

        var (pyExit, python) = await RunAsync("/usr/bin/python3", [Example("client.py"), "py-example", roomId, "0"]);

        Assert.True(pyExit == 0, python);
        Assert.Contains("'status': 'joined_existing'", python);
        Assert.Contains("missed: js-example Hello everyone in the room! 1", python);
        Assert.Contains("stored as message 2, sent to 0 devices", python);
    }

    private static string Example(string file) => Path.Combine(RepositoryRoot.Path, "examples", file);

    private async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args)
    {
        var run = await ExternalProgram.RunAsync(program, args, TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["ROOMS_URL"] = _server.WebSocketUri().ToString() });
        return (run.ExitCode, run.All);
    }
}

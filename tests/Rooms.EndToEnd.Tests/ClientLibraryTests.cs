using Rooms.Client;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The client libraries (clients/js, clients/python, clients/dotnet) against real servers: their own unit tests, then their integration script
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

    /// <summary>Every Node.js the README supports: 20 (Debian's, with --experimental-websocket) and 22 (test.sh installs it).</summary>
    [Theory]
    [InlineData(20)]
    [InlineData(22)]
    public async Task JavaScript_UnitTestsOfTheStateMachinePass(int nodeMajor)
    {
        var (exit, output) = await RunAsync(NodeRuntime.Path(nodeMajor), ["--test", Path.Combine(Client("js"), "test", "state-machine.test.mjs")]);
        Assert.True(exit == 0, output);
        Assert.Contains("# fail 0", output);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(22)]
    public async Task JavaScript_AgainstARealServer_ChatHistoryCatchUpReplacedAndRefused(int nodeMajor)
    {
        var (exit, output) = await RunAsync(NodeRuntime.Path(nodeMajor), ["--experimental-websocket", Path.Combine(Client("js"), "integration", "run.mjs")]);
        Assert.True(exit == 0, output);
        Assert.All(IntegrationChecks, check => Assert.Contains(check, output));
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
        Assert.All(IntegrationChecks, check => Assert.Contains(check, output));
    }

    [Fact]
    public async Task DotNet_AgainstARealServer_ChatHistoryCatchUpReplacedAndRefused()
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        RoomsClient Client(string name, string? roomId = null, IRoomsStore? store = null, Uri? url = null, string? token = null) => new(new RoomsClientOptions
        {
            Urls = [url ?? _server.WebSocketUri()],
            DeviceId = $"{name}-{run}",
            Identity = name,
            RoomId = roomId,
            Store = store,
            Token = token,
            InitialDelay = TimeSpan.FromMilliseconds(50),
        });

        await using var alice = Client("alice");
        var (roomId, status) = await alice.ConnectAsync();
        Assert.Equal("created_new", status);
        await using var bob = Client("bob", roomId);
        await bob.ConnectAsync();
        await Next<PresenceChanged>(alice, p => p.Joins.ContainsKey($"bob-{run}"));
        var ack = await alice.SendAsync("hello bob");
        Assert.Equal(1, ack.Recipients);
        var got = await Next<RoomMessage>(bob);
        Assert.Equal(("hello bob", $"alice-{run}", "broadcast", ack.MessageId), (got.Content, got.From, got.Type, got.MessageId));

        await bob.SendAsync("just you", $"alice-{run}");
        Assert.Equal("direct", (await Next<RoomMessage>(alice)).Type);
        var refused = await Assert.ThrowsAsync<RoomsException>(() => alice.SendAsync("to nobody", "nobody"));
        Assert.Contains("Target device not found", refused.Message);
        Assert.NotNull(refused.Id);

        for (var i = 1; i <= 5; i++)
        {
            await alice.SendAsync($"h{i}");
        }

        var latest = await bob.HistoryAsync(new HistoryQuery(Latest: true, Limit: 3));
        Assert.Equal(["h3", "h4", "h5"], latest.Messages.Select(m => m.Content));
        Assert.True(latest.HasMore);
        var before = await bob.HistoryAsync(new HistoryQuery(Before: latest.Messages[0].MessageId, Limit: 2));
        Assert.Equal(["h1", "h2"], before.Messages.Select(m => m.Content));
        var after = await bob.HistoryAsync(new HistoryQuery(After: before.Messages[0].MessageId, Limit: 10));
        Assert.Equal(["h2", "h3", "h4", "h5"], after.Messages.Select(m => m.Content));
        Assert.False(after.HasMore);

        // Every url refuses connections for a while (a server down): the client keeps trying, and once the server is
        // back it reconnects and sends what was sent meanwhile.
        await using (var relay = TcpRelay.Start(_server.WebSocketUri()))
        {
            await using var dave = new RoomsClient(new RoomsClientOptions
            {
                Urls = [relay.Url], DeviceId = $"dave-{run}", Identity = "dave", RoomId = roomId,
                InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(400),
            });
            await dave.ConnectAsync();
            await relay.DownAsync();
            var whileDown = dave.SendAsync("sent while the server was down");
            var aliceHears = Next<RoomMessage>(alice, m => m.Content == "sent while the server was down", TimeSpan.FromSeconds(15));
            await Task.Delay(TimeSpan.FromSeconds(2));
            relay.Up();
            Assert.NotNull((await whileDown.WaitAsync(TimeSpan.FromSeconds(10))).MessageId);
            await aliceHears;
        }

        // Catch-up through pages of the server's largest frame (history pages are cut at 1 MiB): 25 messages of 48 KB.
        var mark = (await alice.SendAsync("before the big ones")).MessageId;
        var big = new string('€', 16_000);
        for (var i = 0; i < 25; i++)
        {
            await alice.SendAsync($"{i}:{big}");
        }

        var bigStore = new MemoryStore();
        bigStore.Save(new SavedState(roomId, mark, []));
        await using (var erin = Client("erin", store: bigStore))
        {
            await erin.ConnectAsync();
            var numbers = new List<int>();
            while (numbers.Count < 25)
            {
                numbers.Add(int.Parse((await Next<RoomMessage>(erin)).Content.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture));
            }

            Assert.Equal(Enumerable.Range(0, 25), numbers);
        }

        // Away and back with the same store: the missed messages, once each, in order.
        var store = new MemoryStore();
        var carol = Client("carol", roomId, store);
        await carol.ConnectAsync();
        await alice.SendAsync("before the break");
        await Next<RoomMessage>(carol);
        await carol.DisposeAsync();
        for (var i = 1; i <= 3; i++)
        {
            await alice.SendAsync($"missed {i}");
        }

        await using var carolAgain = Client("carol", store: store);
        Assert.Equal(roomId, (await carolAgain.ConnectAsync()).RoomId);
        await alice.SendAsync("live again");
        var contents = new List<string>();
        while (contents.Count < 4)
        {
            contents.Add((await Next<RoomMessage>(carolAgain)).Content);
        }

        Assert.Equal(["missed 1", "missed 2", "missed 3", "live again"], contents);

        // The same device again replaces the older connection, which stops (4001).
        await using var aliceAgain = Client("alice", roomId);
        await aliceAgain.ConnectAsync();
        Assert.Equal("replaced", (await Next<StateChanged>(alice, s => s.State == RoomsState.Closed)).Reason);

        // A refused token stops the client (4003).
        await using var intruder = Client("intruder", url: _authServer.WebSocketUri(), token: "not-a-token");
        var denied = await Assert.ThrowsAsync<RoomsException>(() => intruder.ConnectAsync());
        Assert.Contains("4003", denied.Message);
        Assert.Equal(RoomsState.Closed, intruder.State);
    }

    private static async Task<T> Next<T>(RoomsClient client, Func<T, bool>? predicate = null, TimeSpan? within = null)
        where T : RoomsEvent
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        await foreach (var e in client.Events(timeout.Token))
        {
            if (e is T match && (predicate is null || predicate(match)))
            {
                return match;
            }
        }

        throw new InvalidOperationException($"The events ended before a {typeof(T).Name}");
    }

    /// <summary>The lines each library's integration script prints as its checks pass.</summary>
    private static readonly string[] IntegrationChecks =
    [
        "ok two devices chat", "ok direct message", "ok history pages backward and forward",
        "ok reconnects after every url refused for a while", "ok catch-up through pages of the largest frame", "ok catch-up after a restart",
        "ok replaced (4001)", "ok refused token (4003)", "all passed",
    ];

    private static string Client(string language) => Path.Combine(RepositoryRoot.Path, "clients", language);

    private async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, string? workingDirectory = null)
    {
        var run = await ExternalProgram.RunAsync(program, args, TimeSpan.FromSeconds(120), new Dictionary<string, string>
        {
            ["ROOMS_URL"] = _server.WebSocketUri().ToString(),
            ["ROOMS_AUTH_URL"] = _authServer.WebSocketUri().ToString(),
        }, workingDirectory);
        return (run.ExitCode, run.All);
    }
}

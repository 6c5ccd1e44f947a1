using System.Net;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The mistakes of a first cluster deployment, made with real node processes on one MariaDB and one Redis: two
/// nodes with one id, default ids on one machine, a node that forgot Redis, a crashed node restarted at once, a
/// stop during start-up. Leases are shrunk (heartbeat 0.5 s, node timeout 3 s) so the bounds are short.
/// </summary>
public sealed class ClusterSafetyTests : IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.MySql);
    private readonly string _keyPrefix = "rooms-safety-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _workDir = Directory.CreateTempSubdirectory("rooms-safety-").FullName;
    private readonly List<HostProcess> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        _database.Dispose();
        Directory.Delete(_workDir, recursive: true);
    }

    [Fact]
    public async Task SameNodeIdTwice_SecondRefusesWithOneLine_FirstNodesClientAndRowUntouched()
    {
        var (first, firstPort) = await StartedNode("twin");
        await using var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{firstPort}/"));
        await client.ReceiveAsync();
        await client.IdentifyAsync("on-first");
        var incarnation = await IncarnationAsync("twin");

        var (exitCode, output) = await RunToExit(Environment("twin", MariaDbServer.FreePort()));

        Assert.Equal(1, exitCode);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("Another live node holds node id 'twin'", StringComparison.Ordinal));
        Assert.Contains($"incarnation {incarnation}", line);
        Assert.Contains("last heartbeat", line);
        Assert.Contains("Cluster__NodeId", line);
        Assert.DoesNotContain("   at ", output);
        Assert.Equal(incarnation, await IncarnationAsync("twin"));
        await using var db = _database.OpenContext();
        Assert.Null((await db.Connections.SingleAsync(c => c.DeviceId == "on-first")).DisconnectedAt);
        Assert.Equal(1, (await client.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
        Assert.False(first.Process.HasExited);
    }

    [Fact]
    public async Task DefaultNodeIds_TwoNodesOnOneMachine_DifferAndDirectMessagesCrossThem()
    {
        var (_, portA) = await StartedNode(nodeId: null);
        var (_, portB) = await StartedNode(nodeId: null);

        await using var db = _database.OpenContext();
        var ids = await db.Nodes.Select(n => n.NodeId).ToListAsync();
        Assert.Equal(new[] { ClusterSettings.DefaultNodeId(portA), ClusterSettings.DefaultNodeId(portB) }.Order(), ids.Order());
        Assert.NotEqual(ids[0], ids[1]);

        await using var alice = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{portA}/"));
        await alice.ReceiveAsync();
        var roomId = (await alice.IdentifyAsync("alice")).GetProperty("room_id").GetString();
        alice.IgnoresPresence = true;
        await using var bob = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{portB}/"));
        await bob.ReceiveAsync();
        await bob.IdentifyAsync("bob", roomId);
        await bob.SendObjectAsync(new { type = "message", content = "across", target_device_id = "alice", id = "d1" });

        Assert.Equal(1, (await bob.ReceiveAsync()).GetProperty("recipients").GetInt32());
        Assert.Equal("across", (await alice.ReceiveAsync()).GetProperty("content").GetString());
    }

    [Fact]
    public async Task NodeWithoutRedis_BesideAClusteredNode_RefusesWithOneLine_UnlessAllowedToRunApart()
    {
        await StartedNode("clustered");

        var lone = Environment("forgot-redis", MariaDbServer.FreePort());
        lone.Remove("Cluster__Redis");
        var (exitCode, output) = await RunToExit(lone);

        Assert.Equal(1, exitCode);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("Rooms cannot start", StringComparison.Ordinal));
        Assert.Contains("clustered (Redis key space", line);
        Assert.Contains("Cluster__Redis", line);
        Assert.Contains("Cluster__AllowSingleNodeOnSharedDatabase=true", line);
        Assert.DoesNotContain("   at ", output);
        await using (var db = _database.OpenContext())
        {
            Assert.False(await db.Nodes.AnyAsync(n => n.NodeId == "forgot-redis"));
        }

        var apartPort = MariaDbServer.FreePort();
        var apart = Environment("apart", apartPort);
        apart.Remove("Cluster__Redis");
        apart["Cluster__AllowSingleNodeOnSharedDatabase"] = "true";
        using var allowed = Start(apart);
        await allowed.WaitForHealthAsync(apartPort);
        Assert.Contains("allowed beside other nodes", allowed.Output);
    }

    [Fact]
    public async Task NodeSigkilledAndRestartedAtOnceWithItsId_BackWithinTheLease_ItsOldRowClosed()
    {
        // A lease long enough that the restart (a few seconds of process start on a loaded machine) lands inside it.
        var environment = Environment("phoenix", MariaDbServer.FreePort());
        environment["Cluster__HeartbeatInterval"] = "00:00:01";
        environment["Cluster__NodeTimeout"] = "00:00:10";
        var port = int.Parse(environment["ASPNETCORE_URLS"].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
        var node = Start(environment);
        await node.WaitForHealthAsync(port);
        var crashed = await IncarnationAsync("phoenix");
        await using (var client = await TestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/")))
        {
            await client.ReceiveAsync();
            await client.IdentifyAsync("before-crash");
            node.Process.Kill(entireProcessTree: true);
            await node.Process.WaitForExitAsync();
        }

        var restartedAt = DateTime.UtcNow;
        var restarted = Start(environment);
        await restarted.WaitForHealthAsync(port);

        // Back once the crashed run's lease ran out; the bound is generous for a loaded machine, and says only that
        // the start neither refused nor waited for ever.
        Assert.True(DateTime.UtcNow - restartedAt < TimeSpan.FromSeconds(45), restarted.Output);
        Assert.Contains($"Took over the expired lease of incarnation {crashed}", restarted.Output);
        Assert.NotEqual(crashed, await IncarnationAsync("phoenix"));
        await using var db = _database.OpenContext();
        Assert.NotNull((await db.Connections.SingleAsync(c => c.DeviceId == "before-crash")).DisconnectedAt);
    }

    [Fact]
    public async Task SigtermWhileStarting_EndsCleanly_AndUnreadyProbesAreNotLoggedAsErrors()
    {
        // The holder renews only every 20 s, so the second start watches its lease for a while.
        var holder = Environment("busy-id", MariaDbServer.FreePort());
        holder["Cluster__HeartbeatInterval"] = "00:00:20";
        holder["Cluster__NodeTimeout"] = "00:01:00";
        using var first = Start(holder);
        await first.WaitForHealthAsync(int.Parse(holder["ASPNETCORE_URLS"].Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture));

        var port = MariaDbServer.FreePort();
        using var second = Start(Environment("busy-id", port));
        await Eventually.TrueAsync(() => Task.FromResult(second.Output.Contains("Watching its heartbeat", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        using var http = new HttpClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health/ready"))).StatusCode);
        }

        second.Terminate();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await second.Process.WaitForExitAsync(timeout.Token);

        Assert.Equal(0, second.Process.ExitCode);
        Assert.Contains("Stopped while the database was being prepared", second.Output);
        Assert.DoesNotContain("Unhandled exception", second.Output);
        Assert.DoesNotContain("   at ", second.Output);
        Assert.True(!second.Output.Contains(" ERR] ", StringComparison.Ordinal), second.Output);
        Assert.DoesNotContain(" FTL] ", second.Output);
    }

    private async Task<(HostProcess Process, int Port)> StartedNode(string? nodeId)
    {
        var port = MariaDbServer.FreePort();
        var process = Start(Environment(nodeId, port));
        await process.WaitForHealthAsync(port);
        return (process, port);
    }

    private async Task<string> IncarnationAsync(string nodeId)
    {
        await using var db = _database.OpenContext();
        return (await db.Nodes.SingleAsync(n => n.NodeId == nodeId)).Incarnation;
    }

    private Dictionary<string, string> Environment(string? nodeId, int port)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Database__Provider"] = "MySql",
            ["ConnectionStrings__Rooms"] = _database.ConnectionString,
            ["Database__MySqlServerVersion"] = _database.Settings.MySqlServerVersion,
            ["Cluster__Redis"] = RedisServer.Shared.Configuration,
            ["Cluster__KeyPrefix"] = _keyPrefix,
            ["Cluster__HeartbeatInterval"] = "00:00:00.500",
            ["Cluster__NodeTimeout"] = "00:00:03",
            ["Cluster__PresenceTtl"] = "00:00:03",
            ["Cluster__PresenceRefreshInterval"] = "00:00:00.500",
        };
        if (nodeId is not null)
        {
            environment["Cluster__NodeId"] = nodeId;
        }

        return environment;
    }

    private HostProcess Start(Dictionary<string, string> environment)
    {
        var process = HostProcess.Start(_workDir, [], environment);
        _processes.Add(process);
        return process;
    }

    private async Task<(int ExitCode, string Output)> RunToExit(Dictionary<string, string> environment)
    {
        var process = Start(environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.Process.WaitForExitAsync(timeout.Token);
        return (process.Process.ExitCode, process.Output);
    }
}

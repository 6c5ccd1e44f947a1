using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Tests;

public sealed class NodeLifecycleTests
{
    private static readonly DateTime Now = DateTime.UtcNow;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task StartAsync_ClosesOnlyOwnAndPreNodeRowsAtOwnLastHeartbeat(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "mine", "legacy", "theirs", "closed");
        var lastHeartbeat = Round(Now.AddMinutes(-3));
        await using (var db = fixture.Database.OpenContext())
        {
            db.Nodes.Add(new NodeRow { NodeId = "node-a", Incarnation = "old", StartedAt = Now.AddHours(-1), LastSeenAt = lastHeartbeat });
            db.Connections.AddRange(
                Connection("mine", "node-a", Now.AddMinutes(-10)),
                Connection("legacy", string.Empty, Now.AddMinutes(-10)),
                Connection("theirs", "node-b", Now.AddMinutes(-10)),
                Connection("closed", "node-a", Now.AddMinutes(-20), disconnectedAt: Round(Now.AddMinutes(-15))));
            await db.SaveChangesAsync();
        }

        await fixture.Services.GetRequiredService<NodeLifecycle>().StartAsync(CancellationToken.None);

        var rows = await Rows(fixture);
        Assert.Equal(lastHeartbeat, rows["mine"]);
        Assert.Equal(lastHeartbeat, rows["legacy"]);
        Assert.Null(rows["theirs"]);
        Assert.Equal(Round(Now.AddMinutes(-15)), rows["closed"]);
        await using var check = fixture.Database.OpenContext();
        var node = await check.Nodes.SingleAsync(n => n.NodeId == "node-a");
        Assert.NotEqual("old", node.Incarnation);
        Assert.True(node.LastSeenAt > lastHeartbeat);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task HeartbeatAsync_ClosesRowsOfNodesSilentPastTimeoutOnly(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "on-dead", "on-alive", "late-on-dead");
        var deadSince = Round(Now.AddMinutes(-5));
        await using (var db = fixture.Database.OpenContext())
        {
            db.Nodes.AddRange(
                new NodeRow { NodeId = "node-dead", Incarnation = "x", StartedAt = Now.AddHours(-1), LastSeenAt = deadSince },
                new NodeRow { NodeId = "node-alive", Incarnation = "y", StartedAt = Now.AddHours(-1), LastSeenAt = Round(Now.AddSeconds(-5)) });
            db.Connections.AddRange(
                Connection("on-dead", "node-dead", Now.AddMinutes(-30)),
                Connection("late-on-dead", "node-dead", Now.AddMinutes(-4)),
                Connection("on-alive", "node-alive", Now.AddMinutes(-30)));
            await db.SaveChangesAsync();
        }

        var lifecycle = fixture.Services.GetRequiredService<NodeLifecycle>();
        Assert.Null(await lifecycle.StartAsync(CancellationToken.None));
        Assert.True(await lifecycle.HeartbeatAsync(CancellationToken.None));

        var rows = await Rows(fixture);
        Assert.Equal(deadSince, rows["on-dead"]);
        Assert.Equal(Round(Now.AddMinutes(-4)), rows["late-on-dead"]);
        Assert.Null(rows["on-alive"]);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task StartAsync_LeaseHeldAndRenewedWhileWatching_RefusedAndNothingChanged(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "live");
        await using (var db = fixture.Database.OpenContext())
        {
            db.Nodes.Add(new NodeRow { NodeId = "node-a", Incarnation = "holder", Cluster = "single", StartedAt = Round(Now), LastSeenAt = Round(DateTime.UtcNow), LeaseMilliseconds = 30_000 });
            db.Connections.Add(Connection("live", "node-a", Now.AddMinutes(-1)));
            await db.SaveChangesAsync();
        }

        using var holderAlive = HoldNodeLock(fixture, "node-a");
        var start = fixture.Services.GetRequiredService<NodeLifecycle>().StartAsync(CancellationToken.None);
        await Task.Delay(300);
        await using (var db = fixture.Database.OpenContext())
        {
            // The holder's heartbeat: it is alive.
            var heartbeat = Round(DateTime.UtcNow);
            await db.Nodes.Where(n => n.NodeId == "node-a").ExecuteUpdateAsync(s => s.SetProperty(n => n.LastSeenAt, heartbeat));
        }

        var refusal = await start;

        Assert.NotNull(refusal);
        Assert.Contains("Another live node holds node id 'node-a' (incarnation holder", refusal);
        await using var check = fixture.Database.OpenContext();
        Assert.Equal("holder", (await check.Nodes.SingleAsync()).Incarnation);
        Assert.Null((await Rows(fixture))["live"]);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task StartAsync_LeaseHeldButSilent_TakenOverOnceItsTermRunsOut_ThenTheOldHolderCannotRenew(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        var lastSeen = Round(DateTime.UtcNow);
        await using (var db = fixture.Database.OpenContext())
        {
            db.Nodes.Add(new NodeRow { NodeId = "node-a", Incarnation = "crashed", Cluster = "single", StartedAt = lastSeen, LastSeenAt = lastSeen, LeaseMilliseconds = 1_500 });
            await db.SaveChangesAsync();
        }

        // Silent but holding its lock file (on SQLite): only the term can tell it is gone.
        using (HoldNodeLock(fixture, "node-a"))
        {
            Assert.Null(await fixture.Services.GetRequiredService<NodeLifecycle>().StartAsync(CancellationToken.None));
        }


        await using var check = fixture.Database.OpenContext();
        var row = await check.Nodes.SingleAsync();
        Assert.NotEqual("crashed", row.Incarnation);
        Assert.True(row.LastSeenAt >= lastSeen.AddMilliseconds(1_500), "taken only after the holder's own term");

        // A node whose lease was taken over learns it at its next heartbeat.
        await check.Nodes.ExecuteUpdateAsync(s => s.SetProperty(n => n.Incarnation, "someone-else"));
        Assert.False(await fixture.Services.GetRequiredService<NodeLifecycle>().HeartbeatAsync(CancellationToken.None));
    }

    [Fact]
    public async Task StartAsync_Sqlite_LeaseHeldButNobodyHoldsTheNodesLockFile_TakenOverAtOnce()
    {
        await using var fixture = await StoreFixture.CreateAsync(DatabaseProvider.Sqlite);
        var lastSeen = Round(DateTime.UtcNow);
        await using (var db = fixture.Database.OpenContext())
        {
            db.Nodes.Add(new NodeRow { NodeId = "node-a", Incarnation = "crashed", Cluster = "single", StartedAt = lastSeen, LastSeenAt = lastSeen, LeaseMilliseconds = 60_000 });
            await db.SaveChangesAsync();
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Null(await fixture.Services.GetRequiredService<NodeLifecycle>().StartAsync(CancellationToken.None));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "not after the 60 s term: the crashed run held no lock");
        await using var check = fixture.Database.OpenContext();
        Assert.NotEqual("crashed", (await check.Nodes.SingleAsync()).Incarnation);
    }

    /// <summary>What a live node with this id holds on SQLite (<see cref="LocalNodeLock"/>); nothing on MySQL.</summary>
    private static FileStream? HoldNodeLock(StoreFixture fixture, string nodeId) =>
        fixture.Database.Settings.Provider == DatabaseProvider.Sqlite
            ? new FileStream($"{Path.GetFullPath(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(fixture.Database.Settings.ConnectionString).DataSource)}.{nodeId}.lock",
                FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
            : null;

    private static ConnectionRow Connection(string deviceId, string nodeId, DateTime connectedAt, DateTime? disconnectedAt = null) => new()
    {
        DeviceId = deviceId,
        RoomId = "ROOM01",
        ClientIp = "127.0.0.1",
        NodeId = nodeId,
        ConnectedAt = Round(connectedAt),
        DisconnectedAt = disconnectedAt,
    };

    /// <summary>Microseconds, as DATETIME(6) keeps them.</summary>
    private static DateTime Round(DateTime value) => new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);

    private static async Task<Dictionary<string, DateTime?>> Rows(StoreFixture fixture)
    {
        await using var db = fixture.Database.OpenContext();
        return await db.Connections.ToDictionaryAsync(c => c.DeviceId, c => c.DisconnectedAt);
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Cluster;
using Rooms.Infrastructure.Nodes;
using Rooms.TestSupport;

namespace Rooms.Infrastructure.Tests;

/// <summary>The presence store and its Lua scripts against a real Redis (after centrifuge's presence_redis_test.go); each test has its own key space.</summary>
public sealed class RedisPresenceTests : IAsyncDisposable
{
    private readonly RedisConnection _redis = RedisConnection.Connect(RedisServer.Shared.Configuration, NullLogger<RedisConnection>.Instance);
    private readonly ClusterSettings _settings = new() { KeyPrefix = "t" + Guid.NewGuid().ToString("N")[..12], PresenceTtl = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task JoinLeave_MembersAndFindSeeExactlyTheLiveMembers()
    {
        var presence = Presence("node-a");
        var (alice, bob) = (Member("alice", 1), Member("bob", 2));

        Assert.Equal(PresenceJoin.Added(null, null), await presence.JoinAsync(new RoomId("R1"), alice, default));
        await presence.JoinAsync(new RoomId("R1"), bob, default);

        Assert.Equal([alice, bob], (await presence.MembersAsync(new RoomId("R1"), default))!.OrderBy(m => m.ConnectionId));
        Assert.Equal(bob, await presence.FindAsync(new RoomId("R1"), new DeviceId("bob"), default));
        Assert.True(await presence.LeaveAsync(new RoomId("R1"), bob, default));
        Assert.False(await presence.LeaveAsync(new RoomId("R1"), bob, default));
        Assert.Null(await presence.FindAsync(new RoomId("R1"), new DeviceId("bob"), default));
        Assert.Equal([alice], await presence.MembersAsync(new RoomId("R1"), default));
    }

    [Fact]
    public async Task SameDevice_NewerConnectionReplacesOlderInAnyRoomOnAnyNode_OlderNeverComesBack()
    {
        var (a, b) = (Presence("node-a"), Presence("node-b"));
        var older = Member("phone", 5, "node-a");
        var newer = Member("phone", 9, "node-b");
        await a.JoinAsync(new RoomId("R1"), older, default);

        var join = await b.JoinAsync(new RoomId("R2"), newer, default);

        Assert.Equal(PresenceJoin.Added(older with { Identity = newer.Identity }, new RoomId("R1")), join);
        Assert.Empty((await a.MembersAsync(new RoomId("R1"), default))!);
        Assert.Equal(PresenceJoin.Stale, await a.JoinAsync(new RoomId("R1"), older, default));
        Assert.False(await a.LeaveAsync(new RoomId("R2"), older, default), "the older connection's leave must not remove the newer member");
        Assert.Equal([newer], await b.MembersAsync(new RoomId("R2"), default));
    }

    [Fact]
    public async Task Expired_HiddenAtOnceAndPrunedForExactlyOneCaller()
    {
        _settings.PresenceTtl = TimeSpan.FromMilliseconds(300);
        var (a, b) = (Presence("node-a"), Presence("node-b"));
        var doomed = Member("doomed", 3, "node-dead");
        await Presence("node-dead").JoinAsync(new RoomId("R1"), doomed, default);
        _settings.PresenceTtl = TimeSpan.FromSeconds(30);
        await a.JoinAsync(new RoomId("R1"), Member("alive", 4), default);

        await Task.Delay(600);

        Assert.Equal(["alive"], (await a.MembersAsync(new RoomId("R1"), default))!.Select(m => m.DeviceId.Value));
        Assert.Null(await a.FindAsync(new RoomId("R1"), new DeviceId("doomed"), default));
        var pruned = await Task.WhenAll(a.PruneExpiredAsync(new RoomId("R1"), default).AsTask(), b.PruneExpiredAsync(new RoomId("R1"), default).AsTask());
        Assert.Equal([doomed], pruned.SelectMany(p => p));
    }

    [Fact]
    public async Task RedisUnreachable_EveryAnswerIsNullNotAnError()
    {
        await using var nowhere = RedisConnection.Connect($"127.0.0.1:{MariaDbServer.FreePort()},connectTimeout=200", NullLogger<RedisConnection>.Instance);
        var presence = new RedisPresence(nowhere, new NodeIdentity(new NodeId("node-a"), "test"), _settings);

        Assert.Null(await presence.JoinAsync(new RoomId("R1"), Member("alice", 1), default));
        Assert.Null(await presence.MembersAsync(new RoomId("R1"), default));
        Assert.Null(await presence.LeaveAsync(new RoomId("R1"), Member("alice", 1), default));
        Assert.Empty(await presence.PruneExpiredAsync(new RoomId("R1"), default));
    }

    [Fact]
    public async Task Rooms_ListsEveryRoomWithAMemberInThisKeySpaceOnly()
    {
        var presence = Presence("node-a");
        await presence.JoinAsync(new RoomId("R1"), Member("alice", 1), default);
        await presence.JoinAsync(new RoomId("R2"), Member("bob", 2), default);

        Assert.Equal(["R1", "R2"], (await presence.RoomsAsync(default)).Select(r => r.Value).Order());
    }

    /// <summary>
    /// A member that leaves while a refresh is writing the node's members again must not be written back for good: after
    /// a lease take-over the stopping node's refresh re-added one, and a message counted it as a recipient for 60 s.
    /// </summary>
    [Fact]
    public async Task Refresh_AMemberThatLeftMeanwhile_IsNotLeftBehindInRedis()
    {
        var presence = Presence("node-a");
        var (stays, left) = (Member("stays", 1), Member("left", 2));
        var room = new RoomId("R1");
        var hub = new Moq.Mock<IRoomHub>();
        // The refresh's snapshot still holds both; by the time it writes them, one has left this node.
        hub.Setup(h => h.Rooms()).Returns(new Dictionary<RoomId, IReadOnlyList<RoomMember>> { [room] = [stays, left] });
        hub.Setup(h => h.Members(room)).Returns([stays]);
        var settings = new Rooms.Application.Common.ProtocolSettings();
        using var batcher = new Rooms.Application.Membership.PresenceBatcher(hub.Object, settings, TimeProvider.System);
        var refresher = new PresenceRefresher(presence, hub.Object, new Rooms.Application.Membership.RoomPresence(hub.Object, presence, batcher, settings),
            _redis, _settings, NullLogger<PresenceRefresher>.Instance);

        await refresher.RefreshAsync(CancellationToken.None);

        Assert.Equal([stays], await presence.MembersAsync(room, default));
    }

    private RedisPresence Presence(string nodeId) => new(_redis, new NodeIdentity(new NodeId(nodeId), "test"), _settings);

    private static RoomMember Member(string deviceId, long connection, string nodeId = "node-a") => new(new DeviceId(deviceId), deviceId + "-id", new ConnectionId(connection), new NodeId(nodeId));
}

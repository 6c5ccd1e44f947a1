using Microsoft.Extensions.Time.Testing;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class PresenceBatcherTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);
    private readonly Mock<IRoomHub> _hub = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<PresenceDiffDto> _diffs = [];

    public PresenceBatcherTests()
    {
        _hub.Setup(h => h.SendPresenceDiff(It.IsAny<RoomId>(), It.IsAny<PresenceDiffDto>())).Callback<RoomId, PresenceDiffDto>((_, diff) => _diffs.Add(diff));
        _hub.Setup(h => h.Members(It.IsAny<RoomId>())).Returns([]);
    }

    private PresenceBatcher Batcher(TimeSpan window) => new(_hub.Object, new ProtocolSettings(PresenceWindow: window), _time);

    private static PresenceChange Joined(string device, string room = "R1") => new(new RoomId(room), Member(device), Joined: true);

    private static PresenceChange Left(string device, string room = "R1") => new(new RoomId(room), Member(device), Joined: false);

    private static RoomMember Member(string device) => new(new DeviceId(device), device + "_user", new ConnectionId(1), new NodeId("node-a"));

    [Fact]
    public void AChangeInAQuietRoom_GoesOutAtOnce_InTheSingleEventForm_ToEveryoneButTheDevice()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("a"));

        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("a"), Joined("a").ToDto()), Times.Once);
        _time.Advance(Window);
        _time.Advance(Window);
        _hub.Verify(h => h.SendPresence(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<PresenceEventDto>()), Times.Once);
        Assert.Empty(_diffs);
    }

    [Fact]
    public void ChangesFollowingWithinTheWindow_GoOutAsOneDiff_WhenTheWindowEnds()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener"));
        batcher.Add(Joined("a"));
        batcher.Add(Joined("b"));
        batcher.Add(Left("c"));
        _hub.Verify(h => h.SendPresenceDiff(It.IsAny<RoomId>(), It.IsAny<PresenceDiffDto>()), Times.Never);

        _time.Advance(Window);

        var diff = Assert.Single(_diffs);
        Assert.Equal("R1", diff.RoomId);
        Assert.Equal([new ClientInfoDto("a", "a_user"), new ClientInfoDto("b", "b_user")], diff.Joins);
        Assert.Equal([new ClientInfoDto("c", "c_user")], diff.Leaves);
        _hub.Verify(h => h.SendPresence(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<PresenceEventDto>()), Times.Once);
    }

    [Fact]
    public void AWindowKeepsCoalescingWhileChangesCome_AndClosesAfterOneWithout()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener"));
        batcher.Add(Joined("a"));
        _time.Advance(Window);
        batcher.Add(Joined("b"));
        batcher.Add(Joined("c"));
        _time.Advance(Window);
        _time.Advance(Window);
        batcher.Add(Joined("d"));

        // opener at once; a alone in its window (single form); b and c as one diff; the window closed; d at once.
        Assert.Equal(["b", "c"], Assert.Single(_diffs).Joins.Select(j => j.DeviceId));
        foreach (var device in new[] { "opener", "a", "d" })
        {
            _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId(device), Joined(device).ToDto()), Times.Once);
        }
    }

    [Fact]
    public void FlushRoom_SendsTheRoomsWaitingChangesNow()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener"));
        batcher.Add(Joined("a"));
        batcher.Add(Joined("b"));

        batcher.FlushRoom(new RoomId("R1"));

        Assert.Equal(["a", "b"], Assert.Single(_diffs).Joins.Select(j => j.DeviceId));
        _time.Advance(Window);
        Assert.Single(_diffs);
    }

    [Fact]
    public void JoinThenLeave_OrLeaveThenJoin_WithinAWindow_IsNoChange()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener"));
        batcher.Add(Joined("a"));
        batcher.Add(Left("a"));
        batcher.Add(Left("b"));
        batcher.Add(Joined("b"));
        batcher.Add(Joined("c"));
        batcher.Add(Left("c"));
        batcher.Add(Joined("c"));

        _time.Advance(Window);

        // a and b changed nothing; c's net change is one join, sent in the single-event form.
        Assert.Empty(_diffs);
        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("c"), Joined("c").ToDto()), Times.Once);
        _hub.Verify(h => h.SendPresence(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<PresenceEventDto>()), Times.Exactly(2));
    }

    [Fact]
    public void Rooms_AreBatchedApart_AndAChangeAfterAFlushWaitsForTheNextWindow()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener", "R1"));
        batcher.Add(Joined("a", "R1"));
        batcher.Add(Joined("b", "R1"));
        batcher.Add(Joined("x", "R2"));
        batcher.Add(Joined("y", "R2"));
        _time.Advance(Window);
        batcher.Add(Left("a", "R1"));

        Assert.Equal(["a", "b"], Assert.Single(_diffs).Joins.Select(j => j.DeviceId));
        _hub.Verify(h => h.SendPresence(new RoomId("R2"), new DeviceId("y"), Joined("y", "R2").ToDto()), Times.Once);
        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("a"), It.IsAny<PresenceEventDto>()), Times.Never);

        _time.Advance(Window);

        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("a"), Left("a", "R1").ToDto()), Times.Once);
    }

    [Fact]
    public void ABigRoomsWindow_IsOneWindowPerThousandMembers()
    {
        var members = Enumerable.Range(0, 3000).Select(i => new Domain.RoomAggregate.RoomMember(new DeviceId($"m{i}"), "m", new ConnectionId(i + 1), new NodeId("node"))).ToArray();
        _hub.Setup(h => h.Members(new RoomId("BIG"))).Returns(members);
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener", "BIG"));
        batcher.Add(Joined("a", "BIG"));
        batcher.Add(Joined("b", "BIG"));

        _time.Advance(Window);
        _time.Advance(Window);
        Assert.Empty(_diffs);

        _time.Advance(Window);
        Assert.Equal(["a", "b"], Assert.Single(_diffs).Joins.Select(j => j.DeviceId));
    }

    [Fact]
    public void AStormsDiff_GoesInFramesOfAtMostMaxDiffEntries_EachDeviceOnce()
    {
        using var batcher = Batcher(Window);
        batcher.Add(Joined("opener"));
        for (var i = 0; i < 2_300; i++)
        {
            batcher.Add(Joined($"j{i}"));
        }

        for (var i = 0; i < 400; i++)
        {
            batcher.Add(Left($"l{i}"));
        }

        _time.Advance(Window);

        Assert.Equal(3, _diffs.Count);
        Assert.All(_diffs, d => Assert.True(d.Joins.Count + d.Leaves.Count <= PresenceBatcher.MaxDiffEntries));
        Assert.Equal(2_300, _diffs.SelectMany(d => d.Joins).Select(j => j.DeviceId).Distinct().Count());
        Assert.Equal(400, _diffs.SelectMany(d => d.Leaves).Select(l => l.DeviceId).Distinct().Count());
    }

    [Fact]
    public void AWindowOfZero_SendsEachChangeAtOnce()
    {
        using var batcher = Batcher(TimeSpan.Zero);
        batcher.Add(Joined("a"));
        batcher.Add(Joined("b"));

        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("a"), Joined("a").ToDto()), Times.Once);
        _hub.Verify(h => h.SendPresence(new RoomId("R1"), new DeviceId("b"), Joined("b").ToDto()), Times.Once);
        Assert.Empty(_diffs);
    }

    [Fact]
    public void Dispose_SendsWhatTheWindowHolds()
    {
        var batcher = Batcher(Window);
        batcher.Add(Left("opener"));
        batcher.Add(Left("a"));
        batcher.Add(Left("b"));

        batcher.Dispose();

        Assert.Equal(["a", "b"], Assert.Single(_diffs).Leaves.Select(l => l.DeviceId));
    }
}

using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Domain.Tests;

public sealed class RoomTests
{
    private static RoomMember Member(string deviceId, long connection = 1) =>
        new(new DeviceId(deviceId), deviceId + "_identity", new ConnectionId(connection), new NodeId("node-a"));

    [Fact]
    public void Join_NewDevice_AddsMemberAndReplacesNobody()
    {
        var room = new Room(new RoomId("ABC123"));

        var replaced = room.Join(Member("a"));

        Assert.Null(replaced);
        Assert.Equal(["a"], room.Members.Select(m => m.DeviceId.Value));
    }

    [Fact]
    public void Join_SameDeviceAgain_ReplacesAndReturnsOlderMember()
    {
        var room = new Room(new RoomId("ABC123"));
        var older = Member("a", connection: 1);
        var newer = Member("a", connection: 2);
        room.Join(older);

        var replaced = room.Join(newer);

        Assert.Same(older, replaced);
        Assert.Equal([newer], room.Members);
    }

    [Fact]
    public void Leave_OlderMembershipAfterReplacement_KeepsNewerMember()
    {
        var room = new Room(new RoomId("ABC123"));
        var older = Member("a", connection: 1);
        var newer = Member("a", connection: 2);
        room.Join(older);
        room.Join(newer);

        var left = room.Leave(older);

        Assert.False(left);
        Assert.Equal([newer], room.Members);
    }

    [Fact]
    public void Leave_LastMember_LeavesRoomEmpty()
    {
        var room = new Room(new RoomId("ABC123"));
        var member = Member("a");
        room.Join(member);

        Assert.True(room.Leave(member));
        Assert.True(room.IsEmpty);
    }

    [Fact]
    public void Join_OlderConnectionAfterNewer_RefusedAndNewerStays()
    {
        var room = new Room(new RoomId("ABC123"));
        var newer = Member("a", connection: 9);
        room.Join(newer);

        Assert.Throws<InvalidOperationException>(() => room.Join(Member("a", connection: 8)));
        Assert.Equal([newer], room.Members);
    }

    [Fact]
    public void Supersedes_HigherConnectionIdOfSameDeviceOnly()
    {
        Assert.True(Member("a", 2).Supersedes(Member("a", 1)));
        Assert.False(Member("a", 1).Supersedes(Member("a", 2)));
        Assert.False(Member("a", 2).Supersedes(Member("b", 1)));
    }

    [Fact]
    public void Members_SnapshotTakenBeforeJoin_DoesNotChange()
    {
        var room = new Room(new RoomId("ABC123"));
        room.Join(Member("a", 1));
        var snapshot = room.Members;

        room.Join(Member("b", 2));

        Assert.Single(snapshot);
        Assert.Equal(2, room.Members.Count);
    }
}

using Rooms.Domain.Rooms;

namespace Rooms.Domain.Tests;

public sealed class RoomTests
{
    private static RoomMember Member(string deviceId, long sessionId = 1) => new(deviceId, deviceId + "_identity", sessionId);

    [Fact]
    public void Join_NewDevice_AddsMemberAndReplacesNobody()
    {
        var room = new Room("ABC123");

        var replaced = room.Join(Member("a"));

        Assert.Null(replaced);
        Assert.Equal(["a"], room.Members.Select(m => m.DeviceId));
    }

    [Fact]
    public void Join_SameDeviceAgain_ReplacesAndReturnsOlderMember()
    {
        var room = new Room("ABC123");
        var older = Member("a", sessionId: 1);
        var newer = Member("a", sessionId: 2);
        room.Join(older);

        var replaced = room.Join(newer);

        Assert.Same(older, replaced);
        Assert.Equal([newer], room.Members);
    }

    [Fact]
    public void Leave_OlderMembershipAfterReplacement_KeepsNewerMember()
    {
        var room = new Room("ABC123");
        var older = Member("a", sessionId: 1);
        var newer = Member("a", sessionId: 2);
        room.Join(older);
        room.Join(newer);

        var left = room.Leave(older);

        Assert.False(left);
        Assert.Equal([newer], room.Members);
    }

    [Fact]
    public void Leave_LastMember_LeavesRoomEmpty()
    {
        var room = new Room("ABC123");
        var member = Member("a");
        room.Join(member);

        Assert.True(room.Leave(member));
        Assert.True(room.IsEmpty);
    }

    [Fact]
    public void BroadcastRecipients_ThreeMembers_ExcludesOnlySender()
    {
        var room = new Room("ABC123");
        room.Join(Member("a", 1));
        room.Join(Member("b", 2));
        room.Join(Member("c", 3));

        var recipients = room.BroadcastRecipients("b");

        Assert.Equal(["a", "c"], recipients.Select(m => m.DeviceId));
    }

    [Fact]
    public void DirectRecipient_TargetInRoom_ReturnsTarget()
    {
        var room = new Room("ABC123");
        room.Join(Member("a", 1));
        room.Join(Member("b", 2));

        Assert.Equal("b", room.DirectRecipient("a", "b")?.DeviceId);
    }

    [Theory]
    [InlineData("zzz")]
    [InlineData("a")]
    public void DirectRecipient_TargetAbsentOrSender_ReturnsNull(string target)
    {
        var room = new Room("ABC123");
        room.Join(Member("a", 1));

        Assert.Null(room.DirectRecipient("a", target));
    }

    [Fact]
    public void Members_SnapshotTakenBeforeJoin_DoesNotChange()
    {
        var room = new Room("ABC123");
        room.Join(Member("a", 1));
        var snapshot = room.Members;

        room.Join(Member("b", 2));

        Assert.Single(snapshot);
        Assert.Equal(2, room.Members.Count);
    }
}

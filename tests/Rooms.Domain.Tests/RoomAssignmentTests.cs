using Rooms.Domain.RoomAggregate;

namespace Rooms.Domain.Tests;

public sealed class RoomAssignmentTests
{
    [Theory]
    [InlineData("ABC123", true, false, AssignmentStatus.JoinedExisting)]
    [InlineData("ABC123", true, true, AssignmentStatus.JoinedExisting)]
    [InlineData("ABC123", false, true, AssignmentStatus.RoomNotFound)]
    [InlineData("ABC123", false, false, AssignmentStatus.RoomNotFound)]
    [InlineData(null, false, true, AssignmentStatus.Reconnected)]
    [InlineData(null, false, false, AssignmentStatus.CreatedNew)]
    public void Decide_Request_GivesProtocolStatus(string? requested, bool requestedExists, bool lastRoomExists, AssignmentStatus expected) =>
        Assert.Equal(expected, RoomAssignment.Decide(RoomId.FromNullable(requested), requestedExists, lastRoomExists));
}

namespace Rooms.Domain.RoomAggregate;

/// <summary>Which room an identifying device lands in (docs/protocol.md, section 2).</summary>
public static class RoomAssignment
{
    /// <param name="requestedRoomId">The identify's <c>room_id</c>, if any.</param>
    /// <param name="requestedRoomExists">Whether the requested room was ever created.</param>
    /// <param name="lastRoomExists">Whether the device has a last room that still exists.</param>
    public static AssignmentStatus Decide(RoomId? requestedRoomId, bool requestedRoomExists, bool lastRoomExists)
    {
        if (requestedRoomId is not null)
        {
            return requestedRoomExists ? AssignmentStatus.JoinedExisting : AssignmentStatus.RoomNotFound;
        }

        return lastRoomExists ? AssignmentStatus.Reconnected : AssignmentStatus.CreatedNew;
    }
}

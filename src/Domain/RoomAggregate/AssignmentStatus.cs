namespace Rooms.Domain.RoomAggregate;

public enum AssignmentStatus
{
    CreatedNew,
    JoinedExisting,
    Reconnected,
    RoomNotFound,
}

namespace Rooms.Domain.Rooms;

public enum AssignmentStatus
{
    CreatedNew,
    JoinedExisting,
    Reconnected,
    RoomNotFound,
}

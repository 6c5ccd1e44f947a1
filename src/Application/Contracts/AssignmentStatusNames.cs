using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Contracts;

public static class AssignmentStatusNames
{
    public static string ToWireName(this AssignmentStatus status) => status switch
    {
        AssignmentStatus.CreatedNew => "created_new",
        AssignmentStatus.JoinedExisting => "joined_existing",
        AssignmentStatus.Reconnected => "reconnected",
        AssignmentStatus.RoomNotFound => "room_not_found",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };
}

using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Membership.QueryRoom;

public sealed record QueryRoomQuery(ClientSession Session) : IRequest<Result<RoomInfoDto>>, IUsesStorage
{
    public static string Operation => "room query";

    public static string StorageFailure => "Room query failed: storage unavailable, try again";
}

using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Membership.QueryRoom;

public sealed record QueryRoomQuery(ClientSession Session) : IRequest<Result<RoomInfoDto>>;

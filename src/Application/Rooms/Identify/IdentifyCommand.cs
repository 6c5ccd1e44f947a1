using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Rooms.Identify;

/// <summary>The first frame: who the device is and, optionally, which room it wants.</summary>
public sealed record IdentifyCommand(ClientSession Session, string? DeviceId, string? Identity, string? RoomId)
    : IRequest<Result<RoomAssignedDto>>;

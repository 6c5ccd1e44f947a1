using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Membership.Identify;

/// <summary>The first frame: who the device is and, optionally, which room it wants.</summary>
/// <param name="Token">The device's token, when authentication is on and it did not come with the upgrade URL.</param>
public sealed record IdentifyCommand(ClientSession Session, string? DeviceId, string? Identity, string? RoomId, string? Token = null)
    : IRequest<Result<RoomAssignedDto>>, IUsesStorage
{
    public static string Operation => "identify";

    public static string StorageFailure => "Identify failed: storage unavailable, try again";
}

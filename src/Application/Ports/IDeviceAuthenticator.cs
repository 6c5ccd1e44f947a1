using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>Checks that a connection may act as a device (docs/protocol.md, "Device authentication").</summary>
public interface IDeviceAuthenticator
{
    /// <param name="token">From identify's <c>token</c> or the upgrade URL's <c>access_token</c>; null when neither was sent.</param>
    Task<DeviceAuthorization> AuthorizeAsync(string? token, DeviceId deviceId, CancellationToken cancellationToken);
}

/// <param name="Error">Why the device is refused; null when it may connect.</param>
/// <param name="AllowedRooms">The only rooms it may join; null when any room.</param>
/// <param name="ExpiresAt">When the credential that allowed it ends (the token's <c>exp</c>): the connection is closed then. Null: never.</param>
public sealed record DeviceAuthorization(string? Error, IReadOnlySet<RoomId>? AllowedRooms, DateTime? ExpiresAt = null)
{
    public static readonly DeviceAuthorization Anyone = new(null, null);

    public bool IsAllowed => Error is null;

    public bool MayJoin(RoomId roomId) => AllowedRooms is null || AllowedRooms.Contains(roomId);

    public static DeviceAuthorization Refused(string error) => new(error, null);
}

using Rooms.Application.Sessions;
using Rooms.Domain.Devices;

namespace Rooms.Application.Ports;

/// <summary>
/// What one client address or device may do per minute, so that one cannot hurt the others (README, "Security and
/// reliability"). The host keeps the counts; the use cases ask before doing the work.
/// </summary>
public interface IClientLimits
{
    /// <summary>An identify of <paramref name="deviceId"/>; false past the device's rate (a reconnect loop).</summary>
    bool TryIdentify(ClientSession session, DeviceId deviceId);

    /// <summary>
    /// An identify answered <c>room_not_found</c>; false when the address or device has guessed too many room ids:
    /// the connection is to be closed, and the address is refused for a while.
    /// </summary>
    bool TryFailJoin(ClientSession session, DeviceId deviceId);

    /// <summary>A new room for <paramref name="deviceId"/>; false past the address's rate.</summary>
    bool TryCreateRoom(ClientSession session, DeviceId deviceId);
}

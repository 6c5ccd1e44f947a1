using Rooms.Domain.RoomAggregate;

namespace Rooms.Domain.Devices;

/// <summary>A device as the server remembers it across connections and restarts.</summary>
public sealed class Device
{
    private Device(DeviceId deviceId, string identity, DateTime lastConnectedAt, RoomId? lastRoomId)
    {
        DeviceId = deviceId;
        Identity = identity;
        LastConnectedAt = lastConnectedAt;
        LastRoomId = lastRoomId;
    }

    public DeviceId DeviceId { get; }

    public string Identity { get; private set; }

    public DateTime LastConnectedAt { get; private set; }

    public RoomId? LastRoomId { get; private set; }

    public static Device FirstSeen(DeviceId deviceId, string identity, DateTime at) => new(deviceId, identity, at, null);

    public static Device Restore(DeviceId deviceId, string identity, DateTime lastConnectedAt, RoomId? lastRoomId) =>
        new(deviceId, identity, lastConnectedAt, lastRoomId);

    /// <summary>Records a successful identify: the identity may change between connections; the room becomes the one to reconnect to.</summary>
    public void ConnectedTo(RoomId roomId, string identity, DateTime at)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        LastRoomId = roomId;
        Identity = identity;
        LastConnectedAt = at;
    }
}

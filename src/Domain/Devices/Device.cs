namespace Rooms.Domain.Devices;

/// <summary>A device as the server remembers it across connections and restarts.</summary>
public sealed class Device
{
    private Device(string deviceId, string identity, DateTime lastConnectedAt, string? lastRoomId)
    {
        DeviceId = deviceId;
        Identity = identity;
        LastConnectedAt = lastConnectedAt;
        LastRoomId = lastRoomId;
    }

    public string DeviceId { get; }

    public string Identity { get; private set; }

    public DateTime LastConnectedAt { get; private set; }

    public string? LastRoomId { get; private set; }

    public static Device FirstSeen(string deviceId, string identity, DateTime at) => new(deviceId, identity, at, null);

    public static Device Restore(string deviceId, string identity, DateTime lastConnectedAt, string? lastRoomId) =>
        new(deviceId, identity, lastConnectedAt, lastRoomId);

    /// <summary>Records a successful identify: the identity may change between connections; the room becomes the one to reconnect to.</summary>
    public void ConnectedTo(string roomId, string identity, DateTime at)
    {
        ArgumentException.ThrowIfNullOrEmpty(roomId);
        ArgumentException.ThrowIfNullOrEmpty(identity);
        LastRoomId = roomId;
        Identity = identity;
        LastConnectedAt = at;
    }
}

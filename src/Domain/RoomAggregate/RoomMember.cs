using Rooms.Domain.Connections;
using Rooms.Domain.Devices;

namespace Rooms.Domain.RoomAggregate;

/// <summary>A device present in a room through one live connection, on one node.</summary>
public sealed record RoomMember(DeviceId DeviceId, string Identity, ConnectionId ConnectionId, NodeId NodeId)
{
    /// <summary>Of two connections of one device, the newer one (see <see cref="ConnectionId"/>) is the one that stays.</summary>
    public bool Supersedes(RoomMember other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return DeviceId == other.DeviceId && ConnectionId.IsNewerThan(other.ConnectionId);
    }
}

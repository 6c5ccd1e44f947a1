using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>Rooms, devices, connection history and room queries: everything but messages.</summary>
public interface IRoomRepository
{
    Task<bool> RoomExistsAsync(RoomId roomId, CancellationToken cancellationToken);

    Task<Device?> FindDeviceAsync(DeviceId deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a successful identify in one transaction: the room when it is new, the device,
    /// and an open <c>connections</c> row, whose id (the connection's) is returned.
    /// </summary>
    /// <exception cref="RoomIdTakenException">A new room's id already exists; nothing was stored.</exception>
    Task<ConnectionId> RecordConnectionAsync(NewConnection connection, CancellationToken cancellationToken);

    Task CloseConnectionAsync(ConnectionId connection, DateTime disconnectedAt, CancellationToken cancellationToken);

    Task RecordRoomQueryAsync(DeviceId deviceId, RoomId roomId, DateTime queriedAt, CancellationToken cancellationToken);
}

/// <param name="RoomIsNew">The room is created by this identify (status created_new).</param>
/// <param name="NodeId">The node holding the connection: its rows are closed by it, or for it when it dies.</param>
public sealed record NewConnection(Device Device, RoomId RoomId, bool RoomIsNew, string ClientIp, NodeId NodeId, DateTime ConnectedAt);

public sealed class RoomIdTakenException(RoomId roomId)
    : Exception($"Room id {roomId} is already taken.")
{
    public RoomId RoomId { get; } = roomId;
}

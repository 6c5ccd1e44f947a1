using Rooms.Domain.Devices;

namespace Rooms.Application.Ports;

/// <summary>Rooms, devices, connection history and room queries: everything but messages.</summary>
public interface IRoomRepository
{
    Task<bool> RoomExistsAsync(string roomId, CancellationToken cancellationToken);

    Task<Device?> FindDeviceAsync(string deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a successful identify in one transaction: the room when it is new, the device,
    /// and an open <c>connections</c> row, whose id is returned.
    /// </summary>
    /// <exception cref="RoomIdTakenException">A new room's id already exists; nothing was stored.</exception>
    Task<long> RecordConnectionAsync(NewConnection connection, CancellationToken cancellationToken);

    Task CloseConnectionAsync(long connectionRowId, DateTime disconnectedAt, CancellationToken cancellationToken);

    Task RecordRoomQueryAsync(string deviceId, string roomId, DateTime queriedAt, CancellationToken cancellationToken);
}

/// <param name="RoomIsNew">The room is created by this identify (status created_new).</param>
/// <param name="NodeId">The node holding the connection: its rows are closed by it, or for it when it dies.</param>
public sealed record NewConnection(Device Device, string RoomId, bool RoomIsNew, string ClientIp, string NodeId, DateTime ConnectedAt);

public sealed class RoomIdTakenException(string roomId)
    : Exception($"Room id {roomId} is already taken.")
{
    public string RoomId { get; } = roomId;
}

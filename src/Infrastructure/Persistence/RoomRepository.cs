using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Each read is one unit of work with its own pooled DbContext (behind the <see cref="DatabaseGate"/>);
/// identifies and disconnects are group-committed, so a reconnect storm or a mass disconnect costs a
/// few commits rather than one per device.
/// </summary>
public sealed class RoomRepository : IRoomRepository, IHostedService, IAsyncDisposable
{
    private readonly DatabaseGate _gate;

    // A failed batch is done again one item at a time (any failure: a room id drawn twice or a device raced by
    // another node fails or retries alone). A device appears once per batch, so its later identify is stored
    // after the earlier one (its connection id is higher).
    private readonly GroupCommit<NewConnection, ConnectionId> _identifies;
    private readonly GroupCommit<ConnectionClose, bool> _closes;
    private readonly GroupCommit<string, DeviceRow?> _deviceReads;

    public RoomRepository(DatabaseGate gate)
    {
        _gate = gate;
        _identifies = new(new() { Batch = RecordConnectionsAsync, One = c => RecordConnectionAloneAsync(c, CancellationToken.None), Key = c => c.Device.DeviceId.Value });
        _closes = new(new() { Batch = CloseConnectionsAsync, One = CloseConnectionAloneAsync });
        _deviceReads = new(new() { Batch = FindDevicesAsync, One = FindDeviceAloneAsync, Key = id => id });
    }

    /// <summary>Starts the three batching workers.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _identifies.Start();
        _closes.Start();
        _deviceReads.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Nothing: the workers stop when the container is disposed, after the web server stopped, so the connections
    /// closed during a shutdown still store their rows.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _identifies.DisposeAsync();
        await _closes.DisposeAsync();
        await _deviceReads.DisposeAsync();
    }

    // Compiled once per repository (a compiled query belongs to one model, i.e. one provider): every identify
    // runs one of these, and a storm runs thousands at once.
    private readonly Func<RoomsDbContext, string, CancellationToken, Task<bool>> _roomExists =
        EF.CompileAsyncQuery((RoomsDbContext db, string roomId, CancellationToken _) => db.Rooms.Any(r => r.RoomId == roomId));

    private readonly Func<RoomsDbContext, string, CancellationToken, Task<DeviceRow?>> _deviceById =
        EF.CompileAsyncQuery((RoomsDbContext db, string deviceId, CancellationToken _) => db.Devices.AsNoTracking().SingleOrDefault(d => d.DeviceId == deviceId));

    public async Task<bool> RoomExistsAsync(RoomId roomId, CancellationToken cancellationToken)
    {
        await using var lease = await _gate.OpenAsync(cancellationToken);
        return await _roomExists(lease.Db, roomId.Value, cancellationToken);
    }

    /// <summary>Every identify reads its device: in a storm, thousands at once are read a batch per query.</summary>
    public async Task<Device?> FindDeviceAsync(DeviceId deviceId, CancellationToken cancellationToken)
    {
        var row = await _deviceReads.EnqueueAsync(deviceId.Value, cancellationToken);
        return row is null ? null : Device.Restore(deviceId, row.Identity, row.LastConnectedAt, RoomId.FromNullable(row.LastRoomId));
    }

    private async Task<DeviceRow?[]> FindDevicesAsync(IReadOnlyList<string> deviceIds)
    {
        await using var lease = await _gate.OpenAsync(CancellationToken.None);
        var rows = await DevicesIn(lease.Db, deviceIds).AsNoTracking().ToDictionaryAsync(d => d.DeviceId, StringComparer.Ordinal);
        return [.. deviceIds.Select(id => rows.GetValueOrDefault(id))];
    }

    /// <summary>
    /// <c>WHERE device_id IN (@p0, @p1, ...)</c>: one statement text per batch size, where a LINQ Contains would
    /// either inline the ids (a new query to compile per batch) or depend on the server's JSON functions.
    /// </summary>
    private static IQueryable<DeviceRow> DevicesIn(RoomsDbContext db, IReadOnlyList<string> deviceIds)
    {
        var table = RawSql.Table<DeviceRow>(db);
        var column = RawSql.Column(table, nameof(DeviceRow.DeviceId));
        var placeholders = string.Join(", ", Enumerable.Range(0, deviceIds.Count).Select(i => "{" + i + "}"));

        // Only names from the model go into the text; the ids are parameters.
        var sql = "SELECT * FROM " + table.Name + " WHERE " + column + " IN (" + placeholders + ")";
        return db.Devices.FromSqlRaw(sql, [.. deviceIds]);
    }

    private async Task<DeviceRow?> FindDeviceAloneAsync(string deviceId)
    {
        await using var lease = await _gate.OpenAsync(CancellationToken.None);
        return await _deviceById(lease.Db, deviceId, CancellationToken.None);
    }

    /// <summary>
    /// Two connects of one device at once (on one node or two) race to insert or update its
    /// <c>devices</c> row: one of them fails with a duplicate key or a deadlock. Both connects are
    /// real, so the loser's unit of work is simply done again (it then finds the row).
    /// </summary>
    private const int MaxConnectionAttempts = 5;

    public Task<ConnectionId> RecordConnectionAsync(NewConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return _identifies.EnqueueAsync(connection, cancellationToken).AsTask();
    }

    /// <summary>A batch of identifies in one transaction; a device appears at most once (its key).</summary>
    private async Task<ConnectionId[]> RecordConnectionsAsync(IReadOnlyList<NewConnection> batch)
    {
        await using var lease = await _gate.OpenForWriterAsync(CancellationToken.None);
        return await ConnectionBatchInsert.InsertAsync(lease.Db, batch);
    }

    /// <summary>One identify in a transaction of its own: what a failed batch falls back to.</summary>
    private async Task<ConnectionId> RecordConnectionAloneAsync(NewConnection connection, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordConnectionOnceAsync(connection, cancellationToken);
            }
            catch (Exception ex) when (IsWriteConflict(ex) && attempt < MaxConnectionAttempts)
            {
                if (connection.RoomIsNew && await RoomExistsAsync(connection.RoomId, cancellationToken))
                {
                    throw new RoomIdTakenException(connection.RoomId);
                }

                // Deadlock victims retry at once in step; a little jitter lets one of them through.
                await Task.Delay(Random.Shared.Next(5, 25) * attempt, cancellationToken);
            }
        }
    }

    /// <summary>A failed write (duplicate key, deadlock), also when Pomelo wraps it as a transient failure.</summary>
    private static bool IsWriteConflict(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is DbUpdateException or System.Data.Common.DbException)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<ConnectionId> RecordConnectionOnceAsync(NewConnection connection, CancellationToken cancellationToken)
    {
        var device = connection.Device;
        var deviceId = device.DeviceId.Value;
        await using var lease = await _gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        if (connection.RoomIsNew)
        {
            db.Rooms.Add(new RoomRow { RoomId = connection.RoomId.Value, CreatedAt = connection.ConnectedAt });
        }

        var deviceRow = await db.Devices.SingleOrDefaultAsync(d => d.DeviceId == deviceId, cancellationToken);
        if (deviceRow is null)
        {
            deviceRow = new DeviceRow { DeviceId = deviceId, Identity = device.Identity };
            db.Devices.Add(deviceRow);
        }

        var row = Stage(db, connection, deviceRow);

        // One SaveChanges is one transaction: room, device and connection land together or not at all.
        await db.SaveChangesAsync(cancellationToken);
        return new ConnectionId(row.Id);
    }

    /// <summary>Updates the device's row and adds the open connection row (not saved yet).</summary>
    private static ConnectionRow Stage(RoomsDbContext db, NewConnection connection, DeviceRow deviceRow)
    {
        var device = connection.Device;
        deviceRow.Identity = device.Identity;
        deviceRow.LastConnectedAt = device.LastConnectedAt;
        deviceRow.LastRoomId = device.LastRoomId?.Value;
        var row = new ConnectionRow
        {
            DeviceId = device.DeviceId.Value,
            RoomId = connection.RoomId.Value,
            ClientIp = connection.ClientIp,
            NodeId = connection.NodeId.Value,
            ConnectedAt = connection.ConnectedAt,
        };
        db.Connections.Add(row);
        return row;
    }

    public async Task CloseConnectionAsync(ConnectionId connection, DateTime disconnectedAt, CancellationToken cancellationToken) =>
        await _closes.EnqueueAsync(new ConnectionClose(connection.Value, disconnectedAt), cancellationToken);

    /// <summary>Only a row still open is closed, so closing twice (a retry after an unknown outcome) changes nothing.</summary>
    private static Task Close(RoomsDbContext db, ConnectionClose close) =>
        db.Connections
            .Where(c => c.Id == close.RowId && c.DisconnectedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DisconnectedAt, close.DisconnectedAt));

    private async Task<bool[]> CloseConnectionsAsync(IReadOnlyList<ConnectionClose> batch)
    {
        await using var lease = await _gate.OpenForWriterAsync(CancellationToken.None);
        var db = lease.Db;
        await using var transaction = await db.Database.BeginTransactionAsync();
        foreach (var close in batch)
        {
            await Close(db, close);
        }

        await transaction.CommitAsync();
        return new bool[batch.Count];
    }

    private async Task<bool> CloseConnectionAloneAsync(ConnectionClose close)
    {
        await using var lease = await _gate.OpenAsync(CancellationToken.None);
        await Close(lease.Db, close);
        return true;
    }

    private readonly record struct ConnectionClose(long RowId, DateTime DisconnectedAt);

    public async Task RecordRoomQueryAsync(DeviceId deviceId, RoomId roomId, DateTime queriedAt, CancellationToken cancellationToken)
    {
        await using var lease = await _gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        db.RoomQueries.Add(new RoomQueryRow { DeviceId = deviceId.Value, RoomId = roomId.Value, QueriedAt = queriedAt });
        await db.SaveChangesAsync(cancellationToken);
    }
}

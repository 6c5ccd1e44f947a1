using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Group commit for identifies, like <see cref="Messaging.GroupCommitMessageStore"/> for messages: one
/// writer takes every identify that queued up while the previous batch was being committed and stores
/// their rooms, devices and connection rows in one transaction (one commit, one fsync). A batch that
/// fails is done again one identify at a time, so one bad identify (a room id drawn twice, a device
/// raced by another node) fails or retries alone. A device appears at most once per batch, so its
/// newer connection always gets the higher row id (the generation that fences replacements).
/// </summary>
internal sealed class ConnectionBatchWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly IDbContextFactory<RoomsDbContext> _contexts;
    private readonly Func<NewConnection, CancellationToken, Task<long>> _writeOne;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public ConnectionBatchWriter(IDbContextFactory<RoomsDbContext> contexts, Func<NewConnection, CancellationToken, Task<long>> writeOne)
    {
        _contexts = contexts;
        _writeOne = writeOne;
        _writer = Task.Run(WriteLoopAsync);
    }

    public async Task<long> RecordAsync(NewConnection connection, CancellationToken cancellationToken)
    {
        var pending = new Pending(connection);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Stored.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        Pending? carried = null;
        var batch = new List<Pending>(MaxBatch);
        var devices = new HashSet<string>(StringComparer.Ordinal);
        while (carried is not null || await reader.WaitToReadAsync())
        {
            batch.Clear();
            devices.Clear();
            if (carried is not null)
            {
                batch.Add(carried);
                devices.Add(carried.Connection.Device.DeviceId);
                carried = null;
            }

            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                if (!devices.Add(pending.Connection.Device.DeviceId))
                {
                    // The device's second connect waits for the next batch.
                    carried = pending;
                    break;
                }

                batch.Add(pending);
            }

            await CommitAsync(batch);
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        if (batch.Count > 1)
        {
            try
            {
                var ids = await WriteBatchAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Stored.TrySetResult(ids[i]);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Rolled back as a whole: each identify is done again on its own below.
            }
        }

        await Task.WhenAll(batch.Select(async pending =>
        {
            try
            {
                pending.Stored.TrySetResult(await _writeOne(pending.Connection, CancellationToken.None));
            }
            catch (Exception ex)
            {
                pending.Stored.TrySetException(ex);
            }
        }));
    }

    private async Task<long[]> WriteBatchAsync(List<Pending> batch)
    {
        await using var db = await _contexts.CreateDbContextAsync();
        var deviceIds = batch.Select(p => p.Connection.Device.DeviceId).ToList();
        var devices = await db.Devices.Where(d => EF.Constant(deviceIds).Contains(d.DeviceId)).ToDictionaryAsync(d => d.DeviceId, StringComparer.Ordinal);
        var rows = new ConnectionRow[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var connection = batch[i].Connection;
            if (connection.RoomIsNew)
            {
                db.Rooms.Add(new RoomRow { RoomId = connection.RoomId, CreatedAt = connection.ConnectedAt });
            }

            var device = connection.Device;
            if (!devices.TryGetValue(device.DeviceId, out var deviceRow))
            {
                deviceRow = new DeviceRow { DeviceId = device.DeviceId, Identity = device.Identity };
                db.Devices.Add(deviceRow);
            }

            deviceRow.Identity = device.Identity;
            deviceRow.LastConnectedAt = device.LastConnectedAt;
            deviceRow.LastRoomId = device.LastRoomId;
            rows[i] = new ConnectionRow
            {
                DeviceId = device.DeviceId,
                RoomId = connection.RoomId,
                ClientIp = connection.ClientIp,
                NodeId = connection.NodeId,
                ConnectedAt = connection.ConnectedAt,
            };
            db.Connections.Add(rows[i]);
        }

        await db.SaveChangesAsync();
        return [.. rows.Select(r => r.Id)];
    }

    private sealed class Pending(NewConnection connection)
    {
        public NewConnection Connection { get; } = connection;

        public TaskCompletionSource<long> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using Microsoft.EntityFrameworkCore;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Stored messages by key: every query seeks the (room_id, id) index to the cursor and reads forward,
/// so a page costs the same on a table of ten million rows as on ten.
/// </summary>
public sealed class MessageHistory(DatabaseGate gate) : IMessageHistory
{
    public Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageAsync(
        RoomId roomId, DeviceId deviceId, MessageId afterId, int limit, int maxBytes, CancellationToken cancellationToken) =>
        VisiblePageAsync(roomId, deviceId, limit, maxBytes, forward: true, afterId, cancellationToken);

    public Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageBeforeAsync(
        RoomId roomId, DeviceId deviceId, MessageId beforeId, int limit, int maxBytes, CancellationToken cancellationToken) =>
        VisiblePageAsync(roomId, deviceId, limit, maxBytes, forward: false, beforeId, cancellationToken);

    /// <summary>
    /// What <paramref name="deviceId"/> may see of the room (broadcasts, directs to it, directs from it) after or before
    /// the cursor, oldest first. Three keyset reads, each a seek on an index that leads with the asker's share of the
    /// room, merged: a page costs the same whatever other devices say to each other (one filtered scan of the room
    /// read every hidden direct message on the way).
    /// </summary>
    private async Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> VisiblePageAsync(
        RoomId roomId, DeviceId deviceId, int limit, int maxBytes, bool forward, MessageId cursor, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;

        // First which messages make the page, by id and size only; then only those are read whole. Reading the page's
        // candidates whole would load up to 3 x 501 contents of 16 KB to send 1 MiB of them.
        var candidates = new List<(long Id, int Length)>();
        foreach (var share in VisibleShares(db, roomId, deviceId, limit, forward, cursor))
        {
            candidates.AddRange((await share.Select(m => new { m.Id, m.MessageContent.Length }).ToListAsync(cancellationToken)).Select(m => (m.Id, m.Length)));
        }

        // A direct to oneself is in two of the reads.
        var merged = candidates.DistinctBy(m => m.Id);
        var ordered = (forward ? merged.OrderBy(m => m.Id) : merged.OrderByDescending(m => m.Id)).Take(limit + 1).ToList();
        var chosen = new List<long>();
        long bytes = 0;
        foreach (var (id, length) in ordered.Take(limit))
        {
            bytes += 3L * length;
            if (chosen.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            chosen.Add(id);
        }

        var hasMore = ordered.Count > chosen.Count;
        var rows = await db.Messages.AsNoTracking().Where(m => chosen.Contains(m.Id)).OrderBy(m => m.Id).ToListAsync(cancellationToken);
        return ([.. rows.Select(ToMessage)], hasMore);
    }

    /// <summary>The three keyset reads of a page: broadcasts, directs to the asker, directs from it; each at most <paramref name="limit"/> + 1 rows.</summary>
    public static IReadOnlyList<IQueryable<MessageRow>> VisibleShares(RoomsDbContext db, RoomId roomId, DeviceId deviceId, int limit, bool forward, MessageId cursor)
    {
        ArgumentNullException.ThrowIfNull(db);
        var (room, device, after) = (roomId.Value, deviceId.Value, cursor.Value);
        IQueryable<MessageRow> Page(IQueryable<MessageRow> share)
        {
            var keyed = forward ? share.Where(m => m.Id > after).OrderBy(m => m.Id) : share.Where(m => m.Id < after).OrderByDescending(m => m.Id);
            return keyed.Take(limit + 1);
        }

        var messages = db.Messages.AsNoTracking();
        return
        [
            Page(messages.Where(m => m.RoomId == room && m.ToDeviceId == null)),
            Page(messages.Where(m => m.RoomId == room && m.ToDeviceId == device)),
            Page(messages.Where(m => m.FromDeviceId == device && m.RoomId == room && m.ToDeviceId != null)),
        ];
    }

    public async Task<IReadOnlyList<HistoryMessage>> BetweenAsync(RoomId roomId, MessageId afterId, MessageId beforeId, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        var (room, after, before) = (roomId.Value, afterId.Value, beforeId.Value);
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.RoomId == room && m.Id > after && m.Id < before)
            .OrderBy(m => m.Id)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(ToMessage)];
    }

    public async Task<MessageId> LastIdAsync(RoomId roomId, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        var room = roomId.Value;
        return new MessageId(await db.Messages.Where(m => m.RoomId == room).MaxAsync(m => (long?)m.Id, cancellationToken) ?? 0);
    }

    private static HistoryMessage ToMessage(MessageRow row) =>
        new(new MessageId(row.Id), new DeviceId(row.FromDeviceId), DeviceId.FromNullable(row.ToDeviceId), MessageTypeNames.Parse(row.MessageType), row.MessageContent, DateTime.SpecifyKind(row.SentAt, DateTimeKind.Utc));
}

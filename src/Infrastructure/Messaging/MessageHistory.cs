using Microsoft.EntityFrameworkCore;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Stored messages by key: every query seeks the (room_id, id) index to the cursor and reads forward,
/// so a page costs the same on a table of ten million rows as on ten.
/// </summary>
public sealed class MessageHistory(DatabaseGate gate) : IMessageHistory
{
    public async Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageAsync(
        string roomId, string deviceId, long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.RoomId == roomId && m.Id > afterId && (m.ToDeviceId == null || m.ToDeviceId == deviceId || m.FromDeviceId == deviceId))
            .OrderBy(m => m.Id)
            .Take(limit + 1)
            .ToListAsync(cancellationToken);
        var hasMore = rows.Count > limit;
        return ([.. rows.Take(limit).Select(ToMessage)], hasMore);
    }

    public async Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageBeforeAsync(
        string roomId, string deviceId, long beforeId, int limit, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        // The same index read backward from the cursor.
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.RoomId == roomId && m.Id < beforeId && (m.ToDeviceId == null || m.ToDeviceId == deviceId || m.FromDeviceId == deviceId))
            .OrderByDescending(m => m.Id)
            .Take(limit + 1)
            .ToListAsync(cancellationToken);
        var hasMore = rows.Count > limit;
        return ([.. rows.Take(limit).Reverse().Select(ToMessage)], hasMore);
    }

    public async Task<IReadOnlyList<HistoryMessage>> BetweenAsync(string roomId, long afterId, long beforeId, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.RoomId == roomId && m.Id > afterId && m.Id < beforeId)
            .OrderBy(m => m.Id)
            .ToListAsync(cancellationToken);
        return [.. rows.Select(ToMessage)];
    }

    public async Task<long> LastIdAsync(string roomId, CancellationToken cancellationToken)
    {
        await using var lease = await gate.OpenAsync(cancellationToken);
        var db = lease.Db;
        return await db.Messages.Where(m => m.RoomId == roomId).MaxAsync(m => (long?)m.Id, cancellationToken) ?? 0;
    }

    private static HistoryMessage ToMessage(MessageRow row) =>
        new(row.Id, row.FromDeviceId, row.ToDeviceId, MessageTypeNames.Parse(row.MessageType), row.MessageContent, DateTime.SpecifyKind(row.SentAt, DateTimeKind.Utc));
}

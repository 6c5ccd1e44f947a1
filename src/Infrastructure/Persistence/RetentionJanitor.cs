using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Optional retention (<c>Database:RetainConnections</c>, <c>RetainMessages</c>, <c>RetainRoomQueries</c>; all unset by
/// default, so the seed's trail is kept for ever). Deletes rows past their age in batches of
/// <see cref="DatabaseSettings.RetentionBatchSize"/>, each its own short statement picked by an index, at most
/// <see cref="MaxBatchesPerPass"/> per table and pass, so a large backlog is worked off over several passes and
/// never holds locks the message writers wait on. Every node may run it: deleting a row twice deletes nothing.
/// Open connections are never deleted, whatever their age.
/// </summary>
public sealed partial class RetentionJanitor(
    DatabaseGate database,
    DatabaseSettings settings,
    TimeProvider time,
    ILogger<RetentionJanitor> logger)
{
    public const int MaxBatchesPerPass = 10;

    public bool Enabled => settings.RetainConnections is not null || settings.RetainMessages is not null || settings.RetainRoomQueries is not null;

    /// <returns>How many rows this pass deleted.</returns>
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var deleted = 0;
        if (settings.RetainConnections is { } connections)
        {
            var cutoff = now - connections;
            deleted += await DeleteAsync("connections", db => db.Connections, c => c.DisconnectedAt != null && c.DisconnectedAt < cutoff, c => c.Id, cancellationToken);
        }

        if (settings.RetainRoomQueries is { } queries)
        {
            var cutoff = now - queries;
            deleted += await DeleteAsync("room_queries", db => db.RoomQueries, q => q.QueriedAt < cutoff, q => q.Id, cancellationToken);
        }

        if (settings.RetainMessages is { } messages)
        {
            var cutoff = now - messages;
            deleted += await DeleteAsync("messages", db => db.Messages, m => m.SentAt < cutoff, m => m.Id, cancellationToken);
        }

        return deleted;
    }

    private async Task<int> DeleteAsync<TRow>(
        string table,
        Func<RoomsDbContext, DbSet<TRow>> rows,
        Expression<Func<TRow, bool>> expired,
        Expression<Func<TRow, long>> id,
        CancellationToken cancellationToken)
        where TRow : class
    {
        var total = 0;
        for (var batch = 0; batch < MaxBatchesPerPass; batch++)
        {
            await using var lease = await database.OpenForWriterAsync(cancellationToken);
            var db = lease.Db;
            // Ids first, then delete by them: MySQL takes no LIMIT in a DELETE's IN subquery.
            var ids = await rows(db).AsNoTracking().Where(expired).Select(id).Take(settings.RetentionBatchSize).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                break;
            }

            var parameter = id.Parameters[0];
            var inBatch = Expression.Lambda<Func<TRow, bool>>(
                Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [typeof(long)], Expression.Constant(ids), id.Body), parameter);
            total += await rows(db).Where(inBatch).ExecuteDeleteAsync(cancellationToken);
            if (ids.Count < settings.RetentionBatchSize)
            {
                break;
            }
        }

        if (total > 0)
        {
            LogDeleted(total, table);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: deleted {Count} rows of {Table}")]
    private partial void LogDeleted(int count, string table);
}

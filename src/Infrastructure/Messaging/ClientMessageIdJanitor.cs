using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Messaging;

/// <summary>Forgets client message ids older than <see cref="DatabaseSettings.ClientMessageIdWindow"/>: a resend after that is a new message.</summary>
public sealed class ClientMessageIdJanitor(DatabaseGate database, DatabaseSettings settings, TimeProvider time)
{
    /// <returns>How many ids were forgotten.</returns>
    public async Task<int> ForgetExpiredAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().UtcDateTime - settings.ClientMessageIdWindow;
        await using var lease = await database.OpenForWriterAsync(cancellationToken);
        var db = lease.Db;
        return await db.ClientMessageIds.Where(c => c.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}

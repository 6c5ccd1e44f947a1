using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Messaging;

/// <summary>Forgets client message ids older than <see cref="DatabaseSettings.ClientMessageIdWindow"/>: a resend after that is a new message.</summary>
public sealed class ClientMessageIdJanitor(IDbContextFactory<RoomsDbContext> contexts, DatabaseSettings settings, Application.Ports.IClock clock)
{
    /// <returns>How many ids were forgotten.</returns>
    public async Task<int> ForgetExpiredAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.UtcNow - settings.ClientMessageIdWindow;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.ClientMessageIds.Where(c => c.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken);
    }
}

using Microsoft.EntityFrameworkCore;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Database work on the request path (identify, room queries, history, disconnects) takes one of a bounded
/// number of slots, so a burst waits here instead of building a DbContext and borrowing a connection per
/// request. Measured in a 10 000-device reconnect storm: contexts built beyond the context pool cost the
/// server more CPU than the queries themselves. The single writers (messages, identifies) and housekeeping
/// keep <see cref="ReservedForWriters"/> connections of the pool for themselves, so they never queue behind reads.
/// </summary>
public sealed class DatabaseGate(IDbContextFactory<RoomsDbContext> contexts, DatabaseSettings settings)
{
    public const int ReservedForWriters = 4;

    private readonly SemaphoreSlim _slots = new(Math.Max(1, settings.MaxPoolSize - ReservedForWriters));

    public async Task<DatabaseLease> OpenAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return new DatabaseLease(await contexts.CreateDbContextAsync(cancellationToken), _slots);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }
}

/// <summary>A context and the slot it holds; disposing returns both.</summary>
public readonly struct DatabaseLease(RoomsDbContext db, SemaphoreSlim slots) : IAsyncDisposable
{
    public RoomsDbContext Db => db;

    public async ValueTask DisposeAsync()
    {
        await db.DisposeAsync();
        slots.Release();
    }
}

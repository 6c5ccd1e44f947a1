using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// The only way to a <see cref="RoomsDbContext"/>: the context factory is built here and registered nowhere, so
/// no code can open the database around the slot rule. Every context takes a slot of one of two lanes:
/// <list type="bullet">
/// <item><see cref="OpenAsync"/>, the request path (identify, room queries, history, device reads, single
/// retries): <c>MaxPoolSize - ReservedForWriters</c> slots, so a burst waits here instead of building a
/// DbContext and borrowing a connection per request. Measured in a 10 000-device reconnect storm: contexts
/// built beyond the context pool cost the server more CPU than the queries themselves.</item>
/// <item><see cref="OpenForWriterAsync"/>, the group-commit writers (messages, identifies, closes) and
/// housekeeping (migrations, node heartbeat, janitors): <see cref="ReservedForWriters"/> slots of their own, so
/// they never queue behind reads.</item>
/// </list>
/// Together the lanes never ask for more connections than the pool holds (for a pool of 5 or more; below that the
/// writers' reserve is larger than the pool, and what does not fit waits in the pool).
/// </summary>
public sealed class DatabaseGate
{
    public const int ReservedForWriters = 4;

    /// <summary>
    /// A pool keeps every context it ever handed out at once; the lanes hold at most <c>MaxPoolSize</c>, and bursts
    /// would otherwise leave up to 1 024 contexts (and their service scopes) alive for good.
    /// </summary>
    private const int ContextPoolSize = 64;

    private readonly IDbContextFactory<RoomsDbContext> _contexts;
    private readonly SemaphoreSlim _requests;
    private readonly SemaphoreSlim _writers = new(ReservedForWriters);

    /// <param name="interceptors">EF Core interceptors registered in the container (tests use them to inject faults).</param>
    public DatabaseGate(DatabaseSettings settings, ILoggerFactory loggerFactory, IEnumerable<IInterceptor> interceptors)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new DbContextOptionsBuilder<RoomsDbContext>().UseLoggerFactory(loggerFactory);
        options.UseRoomsDatabase(settings).AddInterceptors(interceptors);
        _contexts = new PooledDbContextFactory<RoomsDbContext>(options.Options, ContextPoolSize);
        _requests = new SemaphoreSlim(Math.Max(1, settings.MaxPoolSize - ReservedForWriters));
    }

    /// <summary>A context for work on the request path.</summary>
    public Task<DatabaseLease> OpenAsync(CancellationToken cancellationToken) => OpenAsync(_requests, cancellationToken);

    /// <summary>A context for a group-commit writer or housekeeping; there are <see cref="ReservedForWriters"/> of these.</summary>
    public Task<DatabaseLease> OpenForWriterAsync(CancellationToken cancellationToken) => OpenAsync(_writers, cancellationToken);

    private async Task<DatabaseLease> OpenAsync(SemaphoreSlim lane, CancellationToken cancellationToken)
    {
        await lane.WaitAsync(cancellationToken);
        try
        {
            return new DatabaseLease(await _contexts.CreateDbContextAsync(cancellationToken), lane);
        }
        catch
        {
            lane.Release();
            throw;
        }
    }
}

/// <summary>A context and the slot it holds; disposing returns both.</summary>
public readonly struct DatabaseLease(RoomsDbContext db, SemaphoreSlim lane) : IAsyncDisposable
{
    public RoomsDbContext Db => db;

    public async ValueTask DisposeAsync()
    {
        await db.DisposeAsync();
        lane.Release();
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Tests;

/// <summary>The database-slot rule is a type: nothing reaches a context except through the gate's two lanes.</summary>
public sealed class DatabaseGateTests
{
    [Fact]
    public async Task TheContainerOffersNoContextFactory_OnlyTheGate()
    {
        await using var fixture = await StoreFixture.CreateAsync(DatabaseProvider.Sqlite);

        Assert.Null(fixture.Services.GetService<IDbContextFactory<RoomsDbContext>>());
        Assert.Null(fixture.Services.GetService<RoomsDbContext>());
        Assert.NotNull(fixture.Services.GetService<DatabaseGate>());
    }

    [Fact]
    public async Task RequestsWaitForASlot_WhileWritersKeepTheirOwn()
    {
        await using var fixture = await StoreFixture.CreateAsync(DatabaseProvider.Sqlite);
        fixture.Database.Settings.MaxPoolSize = DatabaseGate.ReservedForWriters + 2;
        var gate = new DatabaseGate(fixture.Database.Settings, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, []);

        var requests = new[] { await gate.OpenAsync(CancellationToken.None), await gate.OpenAsync(CancellationToken.None) };
        var third = gate.OpenAsync(CancellationToken.None);
        var writers = new List<DatabaseLease>();
        for (var i = 0; i < DatabaseGate.ReservedForWriters; i++)
        {
            writers.Add(await gate.OpenForWriterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5)));
        }

        var fifthWriter = gate.OpenForWriterAsync(CancellationToken.None);
        await Task.Delay(100);
        Assert.False(third.IsCompleted);
        Assert.False(fifthWriter.IsCompleted);

        await requests[0].DisposeAsync();
        await using (await third.WaitAsync(TimeSpan.FromSeconds(5)))
        {
        }

        await writers[0].DisposeAsync();
        await using (await fifthWriter.WaitAsync(TimeSpan.FromSeconds(5)))
        {
        }

        await requests[1].DisposeAsync();
        foreach (var writer in writers.Skip(1))
        {
            await writer.DisposeAsync();
        }
    }
}

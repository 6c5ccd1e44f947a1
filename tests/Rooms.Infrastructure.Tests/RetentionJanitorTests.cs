using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Tests;

public sealed class RetentionJanitorTests
{
    private static readonly DateTime Now = DateTime.UtcNow;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task DeleteExpired_OldRowsGoInBoundedBatches_RecentAndOpenRowsStay(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "dev");
        await using (var db = fixture.Database.OpenContext())
        {
            for (var i = 0; i < 25; i++)
            {
                db.Messages.Add(new MessageRow { RoomId = "ROOM01", FromDeviceId = "dev", MessageType = "broadcast", MessageContent = $"old {i}", SentAt = Now.AddDays(-10) });
                db.RoomQueries.Add(new RoomQueryRow { DeviceId = "dev", RoomId = "ROOM01", QueriedAt = Now.AddDays(-10) });
                db.Connections.Add(new ConnectionRow { DeviceId = "dev", RoomId = "ROOM01", ClientIp = "127.0.0.1", ConnectedAt = Now.AddDays(-11), DisconnectedAt = Now.AddDays(-10) });
            }

            db.Messages.Add(new MessageRow { RoomId = "ROOM01", FromDeviceId = "dev", MessageType = "broadcast", MessageContent = "recent", SentAt = Now.AddHours(-1) });
            db.RoomQueries.Add(new RoomQueryRow { DeviceId = "dev", RoomId = "ROOM01", QueriedAt = Now.AddHours(-1) });
            db.Connections.Add(new ConnectionRow { DeviceId = "dev", RoomId = "ROOM01", ClientIp = "127.0.0.1", ConnectedAt = Now.AddHours(-1), DisconnectedAt = Now.AddMinutes(-30) });
            db.Connections.Add(new ConnectionRow { DeviceId = "dev", RoomId = "ROOM01", ClientIp = "127.0.0.1", ConnectedAt = Now.AddDays(-30), DisconnectedAt = null });
            await db.SaveChangesAsync();
        }

        var settings = new DatabaseSettings
        {
            Provider = provider,
            ConnectionString = fixture.Database.ConnectionString,
            RetainConnections = TimeSpan.FromDays(7),
            RetainMessages = TimeSpan.FromDays(7),
            RetainRoomQueries = TimeSpan.FromDays(7),
            RetentionBatchSize = 2,
        };
        var janitor = new RetentionJanitor(
            fixture.Services.GetRequiredService<DatabaseGate>(), settings, TimeProvider.System, NullLogger<RetentionJanitor>.Instance);

        // One pass deletes at most MaxBatchesPerPass batches per table: 20 of each 25, the rest in the next pass.
        Assert.Equal(3 * 2 * RetentionJanitor.MaxBatchesPerPass, await janitor.DeleteExpiredAsync(CancellationToken.None));
        Assert.Equal(3 * 5, await janitor.DeleteExpiredAsync(CancellationToken.None));
        Assert.Equal(0, await janitor.DeleteExpiredAsync(CancellationToken.None));

        await using var check = fixture.Database.OpenContext();
        Assert.Equal(["recent"], await check.Messages.Select(m => m.MessageContent).ToListAsync());
        Assert.Equal(1, await check.RoomQueries.CountAsync());
        Assert.Equal(2, await check.Connections.CountAsync());
        Assert.Equal(1, await check.Connections.CountAsync(c => c.DisconnectedAt == null));
    }

    [Fact]
    public async Task DeleteExpired_NothingConfigured_KeepsEverything()
    {
        await using var fixture = await StoreFixture.CreateAsync(DatabaseProvider.Sqlite);
        await fixture.SeedRoomAsync("ROOM01", "dev");
        await using (var db = fixture.Database.OpenContext())
        {
            db.Messages.Add(new MessageRow { RoomId = "ROOM01", FromDeviceId = "dev", MessageType = "broadcast", MessageContent = "ancient", SentAt = Now.AddYears(-5) });
            await db.SaveChangesAsync();
        }

        var janitor = fixture.Services.GetRequiredService<RetentionJanitor>();

        Assert.False(janitor.Enabled);
        Assert.Equal(0, await janitor.DeleteExpiredAsync(CancellationToken.None));
        Assert.Single(await fixture.MessagesAsync());
    }
}

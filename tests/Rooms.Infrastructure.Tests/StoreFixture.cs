using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;
using Rooms.TestSupport;

namespace Rooms.Infrastructure.Tests;

/// <summary>A migrated database of one provider with the infrastructure services wired as the host wires them.</summary>
internal sealed class StoreFixture : IAsyncDisposable
{
    private readonly bool _ownsDatabase;

    private StoreFixture(TestDatabase database, ServiceProvider services, bool ownsDatabase)
    {
        Database = database;
        Services = services;
        _ownsDatabase = ownsDatabase;
    }

    public TestDatabase Database { get; }

    public ServiceProvider Services { get; }

    /// <summary>What the message store handed over at its commits.</summary>
    public RecordingCommitFeed Feed => Services.GetRequiredService<RecordingCommitFeed>();

    public static Task<StoreFixture> CreateAsync(DatabaseProvider provider) =>
        CreateAsync(TestDatabase.Create(provider), "node-a", ownsDatabase: true);

    /// <summary>A second node's services on the database of <paramref name="first"/> (its own pool, its own message writer).</summary>
    public static Task<StoreFixture> AnotherNodeAsync(StoreFixture first, string nodeId) =>
        CreateAsync(first.Database, nodeId, ownsDatabase: false);

    private static async Task<StoreFixture> CreateAsync(TestDatabase database, string nodeId, bool ownsDatabase)
    {
        var services = new ServiceCollection()
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddInfrastructure(database.Settings, new ClusterSettings { NodeId = nodeId }, new Rooms.Infrastructure.Auth.AuthSettings())
            .AddSingleton<RecordingCommitFeed>()
            .AddSingleton<Rooms.Application.Ports.ICommitFeed>(provider => provider.GetRequiredService<RecordingCommitFeed>())
            .BuildServiceProvider();
        await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
        foreach (var hosted in services.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }
        return new StoreFixture(database, services, ownsDatabase);
    }

    /// <summary>A room and its devices, which messages and connections refer to.</summary>
    public async Task SeedRoomAsync(string roomId, params string[] deviceIds)
    {
        await using var db = Database.OpenContext();
        db.Rooms.Add(new RoomRow { RoomId = roomId, CreatedAt = DateTime.UtcNow });
        foreach (var deviceId in deviceIds)
        {
            db.Devices.Add(new DeviceRow { DeviceId = deviceId, Identity = deviceId, LastConnectedAt = DateTime.UtcNow, LastRoomId = roomId });
        }

        await db.SaveChangesAsync();
    }

    public async Task<List<MessageRow>> MessagesAsync()
    {
        await using var db = Database.OpenContext();
        return await db.Messages.OrderBy(m => m.Id).ToListAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_ownsDatabase)
        {
            Database.Dispose();
        }
    }
}

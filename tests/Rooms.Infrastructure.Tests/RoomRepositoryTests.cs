using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Tests;

public sealed class RoomRepositoryTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task RecordConnectionAsync_NewRoomIdTaken_ThrowsRoomIdTakenAndStoresNothing(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("TAKEN1");
        var repository = fixture.Services.GetRequiredService<IRoomRepository>();
        var device = Device.FirstSeen(new DeviceId("newbie"), "n", DateTime.UtcNow);
        device.ConnectedTo(new RoomId("TAKEN1"), "n", DateTime.UtcNow);

        await Assert.ThrowsAsync<RoomIdTakenException>(() =>
            repository.RecordConnectionAsync(new NewConnection(device, new RoomId("TAKEN1"), RoomIsNew: true, "127.0.0.1", new NodeId("node-a"), DateTime.UtcNow), CancellationToken.None));

        await using var db = fixture.Database.OpenContext();
        Assert.False(await db.Devices.AnyAsync(d => d.DeviceId == "newbie"));
        Assert.Equal(0, await db.Connections.CountAsync());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task RecordConnectionAsync_KnownDevice_UpdatesIdentityAndLastRoom(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "d1");
        await fixture.SeedRoomAsync("ROOM02");
        var repository = fixture.Services.GetRequiredService<IRoomRepository>();
        var device = (await repository.FindDeviceAsync(new DeviceId("d1"), CancellationToken.None))!;
        device.ConnectedTo(new RoomId("ROOM02"), "renamed", DateTime.UtcNow);

        var connection = await repository.RecordConnectionAsync(new NewConnection(device, new RoomId("ROOM02"), RoomIsNew: false, "::1", new NodeId("node-a"), DateTime.UtcNow), CancellationToken.None);

        var reloaded = (await repository.FindDeviceAsync(new DeviceId("d1"), CancellationToken.None))!;
        Assert.Equal(("renamed", "ROOM02"), (reloaded.Identity, reloaded.LastRoomId?.Value));
        Assert.True(connection.Value > 0);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task RecordConnectionAsync_ManyAtOnceWithOneTakenRoom_BatchedAndOnlyTheBadOneFails(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("TAKEN1");
        var repository = fixture.Services.GetRequiredService<IRoomRepository>();
        var now = DateTime.UtcNow;
        NewConnection Connect(int i, string roomId, bool roomIsNew)
        {
            var device = Device.FirstSeen(new DeviceId($"storm{i}"), "s", now);
            device.ConnectedTo(new RoomId(roomId), "s", now);
            return new NewConnection(device, new RoomId(roomId), roomIsNew, "127.0.0.1", new NodeId("node-a"), now);
        }

        // 300 identifies at once, ten to a room; one of them draws a room id that already exists.
        var attempts = Enumerable.Range(0, 300)
            .Select(i => i == 155 ? Connect(i, "TAKEN1", roomIsNew: true) : Connect(i, $"R{i / 10:D5}", roomIsNew: i % 10 == 0))
            .ToList();
        var results = await Task.WhenAll(attempts.Select(async (c, i) =>
        {
            // The first device of each room creates it before the others join.
            if (i % 10 != 0)
            {
                await Task.Delay(200);
            }

            try
            {
                return (await repository.RecordConnectionAsync(c, CancellationToken.None)).Value;
            }
            catch (RoomIdTakenException)
            {
                return -1L;
            }
        }));

        Assert.Equal(-1L, results[155]);
        Assert.Equal(299, results.Where(id => id > 0).Distinct().Count());
        await using var db = fixture.Database.OpenContext();
        Assert.Equal(299, await db.Connections.CountAsync());
        Assert.Equal(299, await db.Devices.CountAsync(d => d.DeviceId.StartsWith("storm")));
        Assert.False(await db.Devices.AnyAsync(d => d.DeviceId == "storm155"));
    }

    [Fact]
    public async Task RecordConnectionAsync_SameNewDeviceOnTwoNodesAtOnce_BothStored()
    {
        await using var nodeA = await StoreFixture.CreateAsync(DatabaseProvider.MySql);
        await using var nodeB = await StoreFixture.AnotherNodeAsync(nodeA, "node-b");
        await nodeA.SeedRoomAsync("ROOM01");
        IRoomRepository[] repositories = [nodeA.Services.GetRequiredService<IRoomRepository>(), nodeB.Services.GetRequiredService<IRoomRepository>()];

        for (var round = 0; round < 10; round++)
        {
            var ids = await Task.WhenAll(repositories.Select((repository, i) => Task.Run(() =>
            {
                var device = Device.FirstSeen(new DeviceId($"twin{round}"), "t", DateTime.UtcNow);
                device.ConnectedTo(new RoomId("ROOM01"), "t", DateTime.UtcNow);
                return repository.RecordConnectionAsync(new NewConnection(device, new RoomId("ROOM01"), false, "127.0.0.1", new NodeId($"node-{i}"), DateTime.UtcNow), CancellationToken.None);
            })));

            Assert.NotEqual(ids[0], ids[1]);
        }

        await using var db = nodeA.Database.OpenContext();
        Assert.Equal(20, await db.Connections.CountAsync());
        Assert.Equal(10, await db.Devices.CountAsync());
    }
}

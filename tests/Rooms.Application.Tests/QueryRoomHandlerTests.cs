using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership.QueryRoom;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class QueryRoomHandlerTests
{
    private readonly Mock<IRoomRepository> _repository = new();
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IRoomHub> _hub = new();
    private readonly FakeTimeProvider _time = new(TestData.Now);

    private int _maxListed = ProtocolSettings.DefaultMaxRoomInfoClients;

    private QueryRoomHandler Handler() => new(
        _repository.Object, TestData.Presence(_hub, _presence), MappingConfiguration.Create().CreateMapper(), _time,
        new ProtocolSettings(MaxRoomInfoClients: _maxListed));

    [Fact]
    public async Task Handle_ThreeInRoom_CountsAllListsOthersAndStoresQuery()
    {
        var alice = TestData.IdentifiedSession("alice");
        var bob = TestData.IdentifiedSession("bob");
        var carol = TestData.IdentifiedSession("carol");
        _presence.Setup(p => p.MembersAsync(new RoomId("ABC123"), It.IsAny<CancellationToken>())).ReturnsAsync(TestData.MembersOf(alice, bob, carol));

        var result = await Handler().Handle(new QueryRoomQuery(bob), CancellationToken.None);

        Assert.Equal("ABC123", result.Value!.RoomId);
        Assert.Equal(3, result.Value.TotalClients);
        Assert.Equal([new ClientInfoDto("alice", "alice_user"), new ClientInfoDto("carol", "carol_user")], result.Value.Clients);
        _repository.Verify(r => r.RecordRoomQueryAsync(new DeviceId("bob"), new RoomId("ABC123"), TestData.Now, It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Handle_RoomBiggerThanTheListCap_ListsTheCapTotalStaysExact()
    {
        _maxListed = 2;
        var sessions = Enumerable.Range(0, 6).Select(i => TestData.IdentifiedSession($"d{i}")).ToArray();
        _presence.Setup(p => p.MembersAsync(new RoomId("ABC123"), It.IsAny<CancellationToken>())).ReturnsAsync(TestData.MembersOf(sessions));

        var result = await Handler().Handle(new QueryRoomQuery(sessions[0]), CancellationToken.None);

        Assert.Equal(6, result.Value!.TotalClients);
        Assert.Equal(["d1", "d2"], result.Value.Clients.Select(c => c.DeviceId));
    }

    [Fact]
    public async Task Handle_StoreFails_ErrorAndNoRoomInfo()
    {
        var alice = TestData.IdentifiedSession("alice");
        _repository.Setup(r => r.RecordRoomQueryAsync(It.IsAny<DeviceId>(), It.IsAny<RoomId>(), It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(TestData.DatabaseDown());

        var result = await TestData.WithStoragePolicy(new QueryRoomQuery(alice), Handler());

        Assert.False(result.IsSuccess);
        Assert.Null(result.Value);
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Connections.Disconnect;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class DisconnectHandlerTests
{
    private readonly Mock<IRoomRepository> _repository = new();
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IRoomHub> _hub = new();
    private readonly FakeTimeProvider _time = new(TestData.Now);
    private readonly Mock<IConnectionCloseRetries> _closeRetries = new();

    private DisconnectHandler Handler(bool presenceEvents = true) =>
        new(_repository.Object, TestData.Presence(_hub, _presence, new ProtocolSettings(PresenceEvents: presenceEvents)), _time, _closeRetries.Object, TestData.Outage(), NullLogger<DisconnectHandler>.Instance);

    [Fact]
    public async Task Handle_IdentifiedSession_LeavesRoomAndClosesRow()
    {
        var session = TestData.IdentifiedSession("alice", connectionId: 77);

        var result = await Handler().Handle(new DisconnectCommand(session), CancellationToken.None);

        Assert.True(result.Value);
        _presence.Verify(p => p.LeaveAsync(new RoomId("ABC123"), session.Member!, It.IsAny<CancellationToken>()));
        _repository.Verify(r => r.CloseConnectionAsync(new ConnectionId(77), TestData.Now, It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Handle_MemberWasInRoom_OthersHearLeft()
    {
        var session = TestData.IdentifiedSession("alice");
        _presence.Setup(p => p.LeaveAsync(new RoomId("ABC123"), session.Member!, It.IsAny<CancellationToken>())).ReturnsAsync(true);

        await Handler().Handle(new DisconnectCommand(session), CancellationToken.None);

        _hub.Verify(h => h.SendPresence(new RoomId("ABC123"), new DeviceId("alice"), new PresenceEventDto("left", "ABC123", "alice", "alice_user")));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Handle_ReplacedByNewerConnectionOrEventsOff_NoLeftEvent(bool wasInRoom, bool presenceEvents)
    {
        var session = TestData.IdentifiedSession("alice");
        _presence.Setup(p => p.LeaveAsync(new RoomId("ABC123"), session.Member!, It.IsAny<CancellationToken>())).ReturnsAsync(wasInRoom);

        await Handler(presenceEvents).Handle(new DisconnectCommand(session), CancellationToken.None);

        _hub.Verify(h => h.SendPresence(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<PresenceEventDto>()), Times.Never);
    }

    [Fact]
    public async Task Handle_StoringTheCloseFails_RetriedLaterWithTheDisconnectTime()
    {
        var session = TestData.IdentifiedSession("alice", connectionId: 77);
        _repository.Setup(r => r.CloseConnectionAsync(new ConnectionId(77), TestData.Now, It.IsAny<CancellationToken>())).ThrowsAsync(TestData.DatabaseDown());

        var result = await Handler().Handle(new DisconnectCommand(session), CancellationToken.None);

        Assert.True(result.Value);
        _closeRetries.Verify(r => r.Add(new ConnectionId(77), TestData.Now));
    }

    [Fact]
    public async Task Handle_UnidentifiedSession_TouchesNothing()
    {
        var result = await Handler().Handle(new DisconnectCommand(TestData.NewSession()), CancellationToken.None);

        Assert.False(result.Value);
        _presence.VerifyNoOtherCalls();
        _repository.VerifyNoOtherCalls();
    }
}

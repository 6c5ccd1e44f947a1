using Moq;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.Typing;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class TypingHandlerTests
{
    private readonly Mock<IRoomHub> _hub = new();
    private readonly Mock<IPresence> _presence = new();

    [Fact]
    public async Task Handle_TellsTheRoomButTheSenderAndCountsTheOthersOnEveryNode()
    {
        var alice = TestData.IdentifiedSession("alice");
        _presence.Setup(p => p.MembersAsync(new RoomId("ABC123"), It.IsAny<CancellationToken>()))
            .ReturnsAsync(TestData.MembersOf(alice, TestData.IdentifiedSession("bob"), TestData.IdentifiedSession("carol")));

        var result = await new TypingHandler(TestData.Presence(_hub, _presence), _hub.Object).Handle(new TypingCommand(alice), CancellationToken.None);

        Assert.Equal(new TypingSentDto("ABC123", 2), result.Value);
        _hub.Verify(h => h.SendEvent(new RoomId("ABC123"), new DeviceId("alice"), new TypingEventDto("ABC123", "alice", "alice_user")));
    }
}

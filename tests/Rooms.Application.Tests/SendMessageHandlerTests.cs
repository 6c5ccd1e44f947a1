using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class SendMessageHandlerTests
{
    private readonly Mock<IMessageStore> _store = new();
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IRoomHub> _hub = new();
    private readonly FakeTimeProvider _time = new(TestData.Now);
    private readonly ClientSession _alice = TestData.IdentifiedSession("alice");
    private readonly ClientSession _bob = TestData.IdentifiedSession("bob");

    public SendMessageHandlerTests()
    {
        _presence.Setup(p => p.FindAsync(new RoomId("ABC123"), new DeviceId("bob"), It.IsAny<CancellationToken>())).ReturnsAsync(_bob.Member);
        _presence.Setup(p => p.FindAsync(new RoomId("ABC123"), new DeviceId("alice"), It.IsAny<CancellationToken>())).ReturnsAsync(_alice.Member);
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>())).ReturnsAsync(new StoredMessage(new MessageId(4812), new MessageId(4790)));
    }

    private SendMessageHandler Handler() =>
        new(_store.Object, TestData.Presence(_hub, _presence), _time, TestData.Metrics(), NullLogger<SendMessageHandler>.Instance);

    [Fact]
    public async Task Handle_Broadcast_StoredForTheRoomWithTheClientsTimestamp()
    {
        var result = await Handler().Handle(new SendMessageCommand(_alice, "hi all", null, "2024-01-20T12:34:56Z"), CancellationToken.None);

        Assert.Equal(new SendReceiptDto(4812, Duplicate: false), result.Value);
        _store.Verify(s => s.AppendAsync(
            new NewMessage(new RoomId("ABC123"), new DeviceId("alice"), null, MessageType.Broadcast, "hi all", TestData.Now, null, 0, "2024-01-20T12:34:56Z"),
            It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Handle_Direct_StoredForTheTargetDeviceOnly()
    {
        await Handler().Handle(new SendMessageCommand(_alice, "psst", "bob", null), CancellationToken.None);

        _store.Verify(s => s.AppendAsync(
            It.Is<NewMessage>(m => m.ToDeviceId == new DeviceId("bob") && m.Type == MessageType.Direct), It.IsAny<CancellationToken>()));
    }

    [Fact]
    public async Task Handle_NoTimestamp_StoredWithServerTimeOnly()
    {
        await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null), CancellationToken.None);

        _store.Verify(s => s.AppendAsync(It.Is<NewMessage>(m => m.SentAt == TestData.Now && m.ClientTimestamp == null), It.IsAny<CancellationToken>()));
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("alice")]
    public async Task Handle_TargetNotInRoom_ErrorAndNothingStoredOrForwarded(string target)
    {
        var result = await Handler().Handle(new SendMessageCommand(_alice, "psst", target, null), CancellationToken.None);

        Assert.Equal($"Target device not found: {target}", result.Error);
        _store.VerifyNoOtherCalls();
        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Handle_StoreFails_ErrorAndNothingForwarded()
    {
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(TestData.DatabaseDown());

        var result = await TestData.WithStoragePolicy(new SendMessageCommand(_alice, "hi", null, null), Handler());

        Assert.False(result.IsSuccess);
        Assert.Contains("not delivered", result.Error);
        Assert.Null(result.Value);
    }

    [Fact]
    public async Task Handle_WithClientId_AckCountingEveryOtherMember()
    {
        _presence.Setup(p => p.MembersAsync(new RoomId("ABC123"), It.IsAny<CancellationToken>())).ReturnsAsync(TestData.MembersOf(_alice, _bob, TestData.IdentifiedSession("carol")));

        var result = await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null, "c-17"), CancellationToken.None);

        _store.Verify(s => s.AppendAsync(It.Is<NewMessage>(m => m.ClientMessageId == "c-17" && m.Recipients == 2), It.IsAny<CancellationToken>()));
        Assert.Equal(new AckDto("c-17", 4812, 2), result.Value!.Ack);
    }

    [Fact]
    public async Task Handle_ResendOfStoredMessage_SameAckAgain()
    {
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>())).ReturnsAsync(new StoredMessage(new MessageId(4700), new MessageId(0), Duplicate: true, Recipients: 3));

        var result = await Handler().Handle(new SendMessageCommand(_alice, "psst", "bob", null, "c-9"), CancellationToken.None);

        Assert.Equal(new SendReceiptDto(4700, Duplicate: true, new AckDto("c-9", 4700, 3)), result.Value);
    }

    [Fact]
    public async Task Handle_WithoutClientId_NoAck()
    {
        var result = await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null), CancellationToken.None);

        Assert.Null(result.Value!.Ack);
    }
}

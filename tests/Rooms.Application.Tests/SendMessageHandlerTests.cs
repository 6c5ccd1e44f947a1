using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Messages;
using Rooms.Domain.Rooms;

namespace Rooms.Application.Tests;

public sealed class SendMessageHandlerTests
{
    private readonly Mock<IMessageStore> _store = new();
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IClientNotifier> _notifier = new();
    private readonly Mock<IClock> _clock = new();
    private readonly ClientSession _alice = TestData.IdentifiedSession("alice");
    private readonly ClientSession _bob = TestData.IdentifiedSession("bob");

    public SendMessageHandlerTests()
    {
        _clock.Setup(c => c.UtcNow).Returns(TestData.Now);
        _presence.Setup(p => p.FindAsync("ABC123", "bob", It.IsAny<CancellationToken>())).ReturnsAsync(_bob.Member);
        _presence.Setup(p => p.FindAsync("ABC123", "alice", It.IsAny<CancellationToken>())).ReturnsAsync(_alice.Member);
        // Like the real store: the delivery runs at the commit, before the sender resumes.
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>()))
            .Callback<NewMessage, CancellationToken>((m, _) => m.OnCommitted?.Invoke(new StoredMessage(4812, 4790)))
            .ReturnsAsync(new StoredMessage(4812, 4790));
        _notifier.Setup(n => n.SendToRoom("ABC123", "alice", It.IsAny<DeliveredMessageDto>())).Returns(2);
        _notifier.Setup(n => n.SendToDevice("ABC123", "bob", It.IsAny<DeliveredMessageDto>())).Returns(1);
    }

    private SendMessageHandler Handler() =>
        new(_store.Object, _presence.Object, _notifier.Object, _clock.Object, TestData.Outage(), TestData.Metrics(), NullLogger<SendMessageHandler>.Instance);

    [Fact]
    public async Task Handle_Broadcast_StoresThenSendsToRoomExceptSender()
    {
        var result = await Handler().Handle(new SendMessageCommand(_alice, "hi all", null, "2024-01-20T12:34:56Z"), CancellationToken.None);

        Assert.Equal(new SendReceiptDto(4812, 2), result.Value);
        _store.Verify(s => s.AppendAsync(
            It.Is<NewMessage>(m => Fields(m) == new NewMessage("ABC123", "alice", null, MessageType.Broadcast, "hi all", TestData.Now, null, 0, null)),
            It.IsAny<CancellationToken>()));
        _notifier.Verify(n => n.SendToRoom("ABC123", "alice", new DeliveredMessageDto("hi all", "alice", "broadcast", "2024-01-20T12:34:56Z", 4812, 4790)));
        _notifier.Verify(n => n.SendToDevice(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DeliveredMessageDto>()), Times.Never);
    }

    [Fact]
    public async Task Handle_Direct_SendsToTargetDeviceOnly()
    {
        await Handler().Handle(new SendMessageCommand(_alice, "psst", "bob", null), CancellationToken.None);

        _store.Verify(s => s.AppendAsync(
            It.Is<NewMessage>(m => m.ToDeviceId == "bob" && m.Type == MessageType.Direct), It.IsAny<CancellationToken>()));
        _notifier.Verify(n => n.SendToDevice("ABC123", "bob", It.Is<DeliveredMessageDto>(d => d.MessageType == "direct")));
        _notifier.Verify(n => n.SendToRoom(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DeliveredMessageDto>()), Times.Never);
    }

    [Fact]
    public async Task Handle_NoTimestamp_StampsServerTimeInIsoUtc()
    {
        await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null), CancellationToken.None);

        _notifier.Verify(n => n.SendToRoom("ABC123", "alice", It.Is<DeliveredMessageDto>(d => d.Timestamp == "2024-01-20T12:34:56.789Z")));
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("alice")]
    public async Task Handle_TargetNotInRoom_ErrorAndNothingStoredOrForwarded(string target)
    {
        var result = await Handler().Handle(new SendMessageCommand(_alice, "psst", target, null), CancellationToken.None);

        Assert.Equal($"Target device not found: {target}", result.Error);
        _store.VerifyNoOtherCalls();
        _notifier.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Handle_StoreFails_ErrorAndNothingForwarded()
    {
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("disk full"));

        var result = await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null), CancellationToken.None);

        Assert.False(result.IsSuccess);
        Assert.Contains("not delivered", result.Error);
        _notifier.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Handle_WithClientId_AckAfterDeliveryCountingEveryOtherMember()
    {
        _presence.Setup(p => p.MembersAsync("ABC123", It.IsAny<CancellationToken>())).ReturnsAsync(TestData.MembersOf(_alice, _bob, TestData.IdentifiedSession("carol")));
        var sequence = new MockSequence();
        _notifier.InSequence(sequence).Setup(n => n.SendToRoom("ABC123", "alice", It.IsAny<DeliveredMessageDto>())).Returns(1);
        _notifier.InSequence(sequence).Setup(n => n.SendAck(_alice, new AckDto("c-17", 4812, 2)));

        await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null, "c-17"), CancellationToken.None);

        _store.Verify(s => s.AppendAsync(It.Is<NewMessage>(m => m.ClientMessageId == "c-17" && m.Recipients == 2), It.IsAny<CancellationToken>()));
        _notifier.Verify(n => n.SendAck(_alice, new AckDto("c-17", 4812, 2)));
    }

    [Fact]
    public async Task Handle_ResendOfStoredMessage_SameAckAgainNothingDelivered()
    {
        _store.Setup(s => s.AppendAsync(It.IsAny<NewMessage>(), It.IsAny<CancellationToken>())).ReturnsAsync(new StoredMessage(4700, 0, Duplicate: true, Recipients: 3));

        await Handler().Handle(new SendMessageCommand(_alice, "psst", "bob", null, "c-9"), CancellationToken.None);

        _notifier.Verify(n => n.SendAck(_alice, new AckDto("c-9", 4700, 3)));
        _notifier.Verify(n => n.SendToDevice(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DeliveredMessageDto>()), Times.Never);
        _notifier.Verify(n => n.SendToRoom(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<DeliveredMessageDto>()), Times.Never);
    }

    [Fact]
    public async Task Handle_WithoutClientId_NoAck()
    {
        await Handler().Handle(new SendMessageCommand(_alice, "hi", null, null), CancellationToken.None);

        _notifier.Verify(n => n.SendAck(It.IsAny<Sessions.ClientSession>(), It.IsAny<AckDto>()), Times.Never);
    }

    /// <summary>The message without its delivery callback, to compare by value.</summary>
    private static NewMessage Fields(NewMessage message) => message with { OnCommitted = null };
}

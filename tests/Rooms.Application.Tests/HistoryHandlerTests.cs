using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.History;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class HistoryHandlerTests
{
    private readonly Mock<IMessageHistory> _history = new();

    private HistoryHandler Handler() => new(_history.Object, new ProtocolSettings());

    [Theory]
    [InlineData("4800", 4800L)]
    [InlineData(null, long.MaxValue)]
    public async Task Handle_BackwardPage_ReadsBeforeTheCursorOrTheNewest(string? before, long expectedCursor)
    {
        var bob = TestData.IdentifiedSession("bob");
        _history.Setup(h => h.PageBeforeAsync(new RoomId("ABC123"), new DeviceId("bob"), new MessageId(expectedCursor), 3, ProtocolSettings.DefaultMaxHistoryPageBytes, It.IsAny<CancellationToken>())).ReturnsAsync(
            ([new HistoryMessage(new MessageId(4791), new DeviceId("alice"), null, MessageType.Broadcast, "hi", TestData.Now)], true));

        var result = await Handler().Handle(new HistoryQuery(bob, null, 3, before, Latest: before is null), CancellationToken.None);

        Assert.Equal(4791, Assert.Single(result.Value!.Messages).MessageId);
        Assert.True(result.Value.HasMore);
        _history.Verify(h => h.PageAsync(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<MessageId>(), It.IsAny<int>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Handle_Page_ReadsAfterCursorForAskerAndRepliesInDeliveredFormat()
    {
        var bob = TestData.IdentifiedSession("bob");
        _history.Setup(h => h.PageAsync(new RoomId("ABC123"), new DeviceId("bob"), new MessageId(4790), 2, ProtocolSettings.DefaultMaxHistoryPageBytes, It.IsAny<CancellationToken>())).ReturnsAsync(
            ([new HistoryMessage(new MessageId(4791), new DeviceId("alice"), null, MessageType.Broadcast, "hi", TestData.Now),
              new HistoryMessage(new MessageId(4795), new DeviceId("carol"), new DeviceId("bob"), MessageType.Direct, "psst", TestData.Now)], true));

        var result = await Handler().Handle(new HistoryQuery(bob, "4790", 2), CancellationToken.None);

        var expected = new HistoryDto("ABC123",
            [new DeliveredMessageDto("hi", "alice", "broadcast", "2024-01-20T12:34:56.789Z", 4791),
             new DeliveredMessageDto("psst", "carol", "direct", "2024-01-20T12:34:56.789Z", 4795)], true);
        Assert.Equal(expected.Messages, result.Value!.Messages);
        Assert.True(result.Value.HasMore);
    }

    [Fact]
    public async Task Handle_NoCursorNoLimit_FromTheStartWithDefaultLimit()
    {
        var bob = TestData.IdentifiedSession("bob");
        _history.Setup(h => h.PageAsync(new RoomId("ABC123"), new DeviceId("bob"), new MessageId(0), 100, ProtocolSettings.DefaultMaxHistoryPageBytes, It.IsAny<CancellationToken>())).ReturnsAsync(([], false));

        var result = await Handler().Handle(new HistoryQuery(bob, null, null), CancellationToken.None);

        Assert.Empty(result.Value!.Messages);
        _history.Verify(h => h.PageAsync(new RoomId("ABC123"), new DeviceId("bob"), new MessageId(0), 100, ProtocolSettings.DefaultMaxHistoryPageBytes, It.IsAny<CancellationToken>()));
    }

    /// <summary>The probe's page: 499 messages of 700 x € fit 1 MiB of contents, not of frame; the page is cut next to its cursor.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Handle_APageWhoseFrameWouldPassTheBound_IsCutNextToTheCursor_WithHasMore(bool backward)
    {
        var page = Enumerable.Range(1, 499)
            .Select(i => new HistoryMessage(new MessageId(i), new DeviceId("alice"), null, MessageType.Broadcast, new string('€', 700), TestData.Now)).ToList();
        _history.Setup(h => h.PageAsync(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<MessageId>(), 500, It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync((page, false));
        _history.Setup(h => h.PageBeforeAsync(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<MessageId>(), 500, It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync((page, false));

        var result = (await Handler().Handle(new HistoryQuery(TestData.IdentifiedSession("bob"), null, 500, Latest: backward), CancellationToken.None)).Value!;

        Assert.True(result.HasMore);
        Assert.InRange(result.Messages.Count, 400, 498);
        Assert.True(FrameSize.HistoryEnvelope + result.Messages.Sum(FrameSize.Of) <= ProtocolSettings.DefaultMaxHistoryPageBytes);
        Assert.Equal(backward ? 499 : 1, backward ? result.Messages[^1].MessageId : result.Messages[0].MessageId);
    }

    [Fact]
    public async Task Handle_StorageFails_ErrorAndNoReply()
    {
        _history.Setup(h => h.PageAsync(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<MessageId>(), It.IsAny<int>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(TestData.DatabaseDown());

        var result = await TestData.WithStoragePolicy(new HistoryQuery(TestData.IdentifiedSession("bob"), null, null), Handler());

        Assert.StartsWith("History failed", result.Error);
        Assert.Null(result.Value);
    }
}

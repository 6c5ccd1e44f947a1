using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;

namespace Rooms.Application.Messages.History;

public sealed class HistoryHandler(
    IMessageHistory history,
    ProtocolSettings settings) : IRequestHandler<HistoryQuery, Result<HistoryDto>>
{
    public async Task<Result<HistoryDto>> Handle(HistoryQuery request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        var (roomId, deviceId) = (session.RoomId, session.IdentifiedMember.DeviceId);
        var limit = request.Limit ?? ProtocolSettings.DefaultHistoryLimit;

        // Bounded in bytes where it is read, not only where it is sent: 500 messages of 16 KB are 24 MB. The store
        // bounds the contents; the frame (escapes, the other fields) is cut to fit below.
        var page = request.Backward
            ? await history.PageBeforeAsync(roomId, deviceId, request.BeforeId, limit, settings.MaxHistoryPageBytes, cancellationToken)
            : await history.PageAsync(roomId, deviceId, request.AfterId, limit, settings.MaxHistoryPageBytes, cancellationToken);
        var messages = page.Messages.Select(DeliveredMessageDto.From).ToList();
        var fitting = FittingCount(request.Backward ? Enumerable.Reverse(messages) : messages, settings.MaxHistoryPageBytes);
        if (fitting == messages.Count)
        {
            return Result<HistoryDto>.Ok(new HistoryDto(roomId.Value, messages, page.HasMore));
        }

        // Keep the messages next to the cursor: the first ones going forward, the last ones going backward.
        var kept = request.Backward ? messages[(messages.Count - fitting)..] : messages[..fitting];
        return Result<HistoryDto>.Ok(new HistoryDto(roomId.Value, kept, HasMore: true));
    }

    /// <summary>How many of <paramref name="messages"/>, taken in order, fit one frame (at least one: a message always fits).</summary>
    private static int FittingCount(IEnumerable<DeliveredMessageDto> messages, int maxFrameBytes)
    {
        var (count, bytes) = (0, FrameSize.HistoryEnvelope);
        foreach (var message in messages)
        {
            bytes += FrameSize.Of(message);
            if (count > 0 && bytes > maxFrameBytes)
            {
                break;
            }

            count++;
        }

        return count;
    }
}

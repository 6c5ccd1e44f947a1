using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;

namespace Rooms.Application.Messages.History;

public sealed class HistoryHandler(
    IMessageHistory history,
    IClientNotifier notifier,
    StorageOutageLog outage,
    ProtocolSettings settings) : IRequestHandler<HistoryQuery, Result<HistoryDto>>
{
    public async Task<Result<HistoryDto>> Handle(HistoryQuery request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        var roomId = session.RoomId!;
        (IReadOnlyList<HistoryMessage> Messages, bool HasMore) page;
        try
        {
            var limit = request.Limit ?? ProtocolSettings.DefaultHistoryLimit;
            page = request.Backward
                ? await history.PageBeforeAsync(roomId, session.Member!.DeviceId, request.BeforeId, limit, cancellationToken)
                : await history.PageAsync(roomId, session.Member!.DeviceId, request.AfterId, limit, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            outage.Failed("history", ex);
            return Result<HistoryDto>.Fail("History failed: storage unavailable, try again");
        }

        outage.Succeeded();
        var (messages, cut) = WithinBytes(page.Messages, settings.MaxHistoryPageBytes, keepNewest: request.Backward);
        var answer = new HistoryDto(roomId, [.. messages.Select(ToDelivered)], page.HasMore || cut);
        notifier.SendHistory(session, answer);
        return Result<HistoryDto>.Ok(answer);
    }

    /// <summary>
    /// The page, cut so that its contents stay within <paramref name="maxBytes"/> (a page of 500 messages of 16 KB
    /// would be a 25 MB frame): forward pages keep their oldest messages, backward pages their newest, so the
    /// next cursor follows on. At least one message is kept, or no page could ever be read.
    /// </summary>
    public static (IReadOnlyList<HistoryMessage> Messages, bool Cut) WithinBytes(IReadOnlyList<HistoryMessage> page, int maxBytes, bool keepNewest)
    {
        ArgumentNullException.ThrowIfNull(page);
        var ordered = keepNewest ? page.Reverse() : page;
        var kept = new List<HistoryMessage>();
        long bytes = 0;
        foreach (var message in ordered)
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(message.Content) + message.FromDeviceId.Length;
            if (kept.Count > 0 && bytes > maxBytes)
            {
                break;
            }

            kept.Add(message);
        }

        if (keepNewest)
        {
            kept.Reverse();
        }

        return (kept, kept.Count < page.Count);
    }

    /// <summary>A stored message in the delivered format; its timestamp is the time it was stored.</summary>
    public static DeliveredMessageDto ToDelivered(HistoryMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new DeliveredMessageDto(message.Content, message.FromDeviceId, message.Type.ToName(), FieldRules.FormatTimestamp(message.SentAt), message.Id);
    }
}

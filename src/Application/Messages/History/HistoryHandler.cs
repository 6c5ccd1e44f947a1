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

        // Bounded in bytes where it is read, not only where it is sent: 500 messages of 16 KB are 24 MB.
        var page = request.Backward
            ? await history.PageBeforeAsync(roomId, deviceId, request.BeforeId, limit, settings.MaxHistoryPageBytes, cancellationToken)
            : await history.PageAsync(roomId, deviceId, request.AfterId, limit, settings.MaxHistoryPageBytes, cancellationToken);
        return Result<HistoryDto>.Ok(new HistoryDto(roomId.Value, [.. page.Messages.Select(DeliveredMessageDto.From)], page.HasMore));
    }
}

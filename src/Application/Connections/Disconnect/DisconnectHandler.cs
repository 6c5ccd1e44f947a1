using MediatR;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Connections.Disconnect;

public sealed partial class DisconnectHandler(
    IRoomRepository repository,
    RoomPresence presence,
    TimeProvider time,
    IConnectionCloseRetries closeRetries,
    StorageOutageLog outage,
    ILogger<DisconnectHandler> logger) : IRequestHandler<DisconnectCommand, Result<bool>>
{
    /// <returns>Whether the session had identified (and so had a room and a connection).</returns>
    public async Task<Result<bool>> Handle(DisconnectCommand request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        if (session.Member is not { } member)
        {
            return Result<bool>.Ok(false);
        }

        // The room hears "left" unless a newer connection replaced the member: its device is still in a room.
        await presence.LeaveAsync(session, cancellationToken);

        LogDisconnected(session.Id, member.DeviceId, session.RoomId);
        var disconnectedAt = time.GetUtcNow().UtcDateTime;
        try
        {
            await repository.CloseConnectionAsync(member.ConnectionId, disconnectedAt, cancellationToken);
            outage.Succeeded();
        }
        catch (Exception ex) when (StorageOutageLog.IsStorageFailure(ex))
        {
            // Stored later, with this time, when the database is back.
            outage.Failed("disconnect", ex);
            closeRetries.Add(member.ConnectionId, disconnectedAt);
        }

        return Result<bool>.Ok(true);
    }

    // Debug: the host logs the connection's end once, with its device and room (Information).
    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId}: device {DeviceId} left room {RoomId}")]
    private partial void LogDisconnected(long sessionId, DeviceId deviceId, RoomId roomId);
}

using MediatR;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Membership.Identify;

public sealed partial class IdentifyHandler(
    IRoomRepository repository,
    RoomPresence presence,
    IDeviceAuthenticator authenticator,
    IClientLimits limits,
    ProtocolSettings settings,
    NodeIdentity node,
    TimeProvider time,
    RoomsMetrics metrics,
    ILogger<IdentifyHandler> logger) : IRequestHandler<IdentifyCommand, Result<RoomAssignedDto>>
{
    private readonly LogSampler _sampler = new();

    /// <summary>Room ids are drawn from 36^6 values; a handful of collisions in a row means something else is wrong.</summary>
    private const int MaxRoomIdAttempts = 16;

    public async Task<Result<RoomAssignedDto>> Handle(IdentifyCommand request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        var deviceId = new DeviceId(request.DeviceId!);
        var identity = request.Identity!;
        var requested = RoomId.FromNullable(request.RoomId);
        if (!limits.TryIdentify(session, deviceId))
        {
            // A reconnect loop: every identify is a connection row and presence frames to the whole room.
            const string tooOften = "Too many identifies of this device: wait a minute before reconnecting";
            metrics.Identify("limited");
            session.Channel.CloseForAbuse(tooOften);
            return Result<RoomAssignedDto>.Fail(tooOften);
        }

        var authorization = await authenticator.AuthorizeAsync(request.Token ?? session.AccessToken, deviceId, cancellationToken);
        if (!authorization.IsAllowed)
        {
            return Refuse(session, deviceId, authorization.Error!);
        }

        var device = await repository.FindDeviceAsync(deviceId, cancellationToken);
        var requestedExists = requested is { } asked && await repository.RoomExistsAsync(asked, cancellationToken);
        // Rooms are never deleted (and devices.last_room_id references rooms), so a last room exists:
        // a reconnect costs one read, which is what a reconnect storm after a restart is made of.
        var lastRoomExists = requested is null && device?.LastRoomId is not null;

        var status = RoomAssignment.Decide(requested, requestedExists, lastRoomExists);
        var joining = status switch
        {
            AssignmentStatus.Reconnected => device!.LastRoomId,
            AssignmentStatus.CreatedNew => null,
            _ => requested,
        };
        if (authorization.AllowedRooms is not null && (joining is not { } room || !authorization.MayJoin(room)))
        {
            return Refuse(session, deviceId, joining is null
                ? "Not allowed: the token names the rooms this device may join; send one of them as room_id"
                : $"Not allowed: the token does not allow room {joining}");
        }

        if (status == AssignmentStatus.RoomNotFound)
        {
            if (_sampler.ShouldLog("room-not-found", out var leftOut))
            {
                LogRoomNotFound(deviceId, requested!.Value, session.ClientIp, leftOut);
            }

            metrics.Identify(status.ToWireName());
            var notFound = new RoomAssignedDto(request.RoomId!, status.ToWireName());
            session.Channel.SendRoomAssigned(notFound);
            if (!limits.TryFailJoin(session, deviceId))
            {
                // Without device tokens a room id is the only secret: guessing must not be cheap.
                session.Channel.CloseForAbuse("Too many unknown room ids from this address or device: try again later");
            }

            return Result<RoomAssignedDto>.Ok(notFound);
        }

        if (status == AssignmentStatus.CreatedNew && !limits.TryCreateRoom(session, deviceId))
        {
            metrics.Identify("limited");
            return Result<RoomAssignedDto>.Fail("Too many new rooms from this address: join an existing room, or try again in a minute");
        }

        var now = time.GetUtcNow().UtcDateTime;
        device ??= Device.FirstSeen(deviceId, identity, now);
        var (roomId, connection) = status == AssignmentStatus.CreatedNew
            ? await CreateRoomAsync(device, identity, session.ClientIp, now, cancellationToken)
            : await RecordAsync(device, joining!.Value, roomIsNew: false, identity, session.ClientIp, now, cancellationToken);

        var member = new RoomMember(deviceId, identity, connection, node.NodeId);
        session.CredentialsExpireAt = authorization.ExpiresAt;
        session.Identified(member, roomId);

        // Joined (and, on a cluster, listening to the room) before the reply goes out, so whatever the room
        // sends after the client saw its reply reaches it; the reply is queued before attaching, so it comes first.
        var join = await presence.JoinAsync(session, roomId, member, cancellationToken);
        var assigned = new RoomAssignedDto(roomId.Value, status.ToWireName());
        await presence.AttachAsync(session, assigned, cancellationToken);
        if (join.Superseded)
        {
            // A newer connection of the device joined first: it stays, this one goes.
            LogSuperseded(deviceId, connection);
            presence.CloseReplaced(member);
        }
        else
        {
            if (join.Replaced is { } replaced)
            {
                LogReplaced(deviceId, replaced.ConnectionId, replaced.NodeId, member.ConnectionId);
            }

            presence.Announce(member, roomId, join);
        }

        LogAssigned(session.Id, deviceId, identity, roomId, assigned.Status, session.ClientIp);
        metrics.Identify(assigned.Status);
        return Result<RoomAssignedDto>.Ok(assigned);
    }

    private Result<RoomAssignedDto> Refuse(ClientSession session, DeviceId deviceId, string error)
    {
        if (_sampler.ShouldLog("refused", out var leftOut))
        {
            LogRefused(deviceId, session.ClientIp, error, leftOut);
        }

        metrics.Identify("refused");
        session.Channel.RefuseUnauthorized(error);
        return Result<RoomAssignedDto>.Fail(error);
    }

    private async Task<(RoomId RoomId, ConnectionId Connection)> CreateRoomAsync(
        Device device, string identity, string clientIp, DateTime now, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordAsync(device, RoomId.NewCandidate(settings.RoomIdLength), roomIsNew: true, identity, clientIp, now, cancellationToken);
            }
            catch (RoomIdTakenException) when (attempt < MaxRoomIdAttempts)
            {
                // Ids are unique among all rooms ever created: draw another.
            }
        }
    }

    /// <summary>The device is in <paramref name="roomId"/> from now on: its row, the room if new, and the connection's row, stored together.</summary>
    private async Task<(RoomId RoomId, ConnectionId Connection)> RecordAsync(
        Device device, RoomId roomId, bool roomIsNew, string identity, string clientIp, DateTime now, CancellationToken cancellationToken)
    {
        device.ConnectedTo(roomId, identity, now);
        var connection = await repository.RecordConnectionAsync(new NewConnection(device, roomId, roomIsNew, clientIp, node.NodeId, now), cancellationToken);
        return (roomId, connection);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: device {DeviceId} ({Identity}) {Status} room {RoomId} from {ClientIp}")]
    private partial void LogAssigned(long sessionId, DeviceId deviceId, string identity, RoomId roomId, string status, string clientIp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identify as device {DeviceId} from {ClientIp} refused: {Reason} ({LeftOut} more not logged since the last line)")]
    private partial void LogRefused(DeviceId deviceId, string clientIp, string reason, int leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} from {ClientIp} asked for room {RoomId}, which does not exist ({LeftOut} more not logged since the last line)")]
    private partial void LogRoomNotFound(DeviceId deviceId, RoomId roomId, string clientIp, int leftOut);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} reconnected: connection {OldConnectionId} on node {OldNodeId} replaced by {NewConnectionId}")]
    private partial void LogReplaced(DeviceId deviceId, ConnectionId oldConnectionId, NodeId oldNodeId, ConnectionId newConnectionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId}: connection {ConnectionId} closed at once, a newer connection of the device joined first")]
    private partial void LogSuperseded(DeviceId deviceId, ConnectionId connectionId);

}

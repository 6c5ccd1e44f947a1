using AutoMapper;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;

namespace Rooms.Application.Membership.QueryRoom;

public sealed class QueryRoomHandler(
    IRoomRepository repository,
    RoomPresence presence,
    IMapper mapper,
    TimeProvider time,
    ProtocolSettings settings) : IRequestHandler<QueryRoomQuery, Result<RoomInfoDto>>
{
    public async Task<Result<RoomInfoDto>> Handle(QueryRoomQuery request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        var deviceId = session.IdentifiedMember.DeviceId;
        var roomId = session.RoomId;
        await repository.RecordRoomQueryAsync(deviceId, roomId, time.GetUtcNow().UtcDateTime, cancellationToken);
        var members = await presence.MembersAsync(roomId, cancellationToken);
        var others = members.Where(m => m.DeviceId != deviceId).ToList();

        // The asker is in the room by definition, even while a shared presence has not caught up with it. A big room's
        // answer lists the first MaxRoomInfoClients others only (one frame stays small); total_clients stays exact.
        var listed = others.Take(settings.MaxRoomInfoClients).Select(mapper.Map<ClientInfoDto>).ToList();
        return Result<RoomInfoDto>.Ok(new RoomInfoDto(roomId.Value, others.Count + 1, listed));
    }
}

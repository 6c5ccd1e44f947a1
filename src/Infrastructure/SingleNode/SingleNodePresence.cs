using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Infrastructure.SingleNode;

/// <summary>A node alone shares its members with nobody: its room hub is the whole truth, so nothing is known here.</summary>
public sealed class SingleNodePresence : IPresence
{
    public ValueTask<PresenceJoin?> JoinAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken) => ValueTask.FromResult<PresenceJoin?>(null);

    public ValueTask<bool?> LeaveAsync(RoomId roomId, RoomMember member, CancellationToken cancellationToken) => ValueTask.FromResult<bool?>(null);

    public ValueTask<IReadOnlyList<RoomMember>?> MembersAsync(RoomId roomId, CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<RoomMember>?>(null);

    public ValueTask<RoomMember?> FindAsync(RoomId roomId, DeviceId deviceId, CancellationToken cancellationToken) => ValueTask.FromResult<RoomMember?>(null);

    public ValueTask<IReadOnlyList<RoomMember>> PruneExpiredAsync(RoomId roomId, CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<RoomMember>>([]);

    public ValueTask<IReadOnlyList<RoomId>> RoomsAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<RoomId>>([]);
}

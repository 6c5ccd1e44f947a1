using Rooms.Application.Ports;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Infrastructure.SingleNode;

/// <summary>A node alone shares its members with nobody: its room hub is the whole truth, so nothing is known here.</summary>
public sealed class SingleNodePresence : IPresence
{
    public ValueTask<PresenceJoin?> JoinAsync(string roomId, RoomMember member, CancellationToken cancellationToken) => ValueTask.FromResult<PresenceJoin?>(null);

    public ValueTask<bool?> LeaveAsync(string roomId, RoomMember member, CancellationToken cancellationToken) => ValueTask.FromResult<bool?>(null);

    public ValueTask<IReadOnlyList<RoomMember>?> MembersAsync(string roomId, CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<RoomMember>?>(null);

    public ValueTask<RoomMember?> FindAsync(string roomId, string deviceId, CancellationToken cancellationToken) => ValueTask.FromResult<RoomMember?>(null);

    public ValueTask<IReadOnlyList<RoomMember>> PruneExpiredAsync(string roomId, CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<RoomMember>>([]);

    public ValueTask<IReadOnlyList<string>> RoomsAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<string>>([]);
}

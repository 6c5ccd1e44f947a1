using Rooms.Domain.Devices;

namespace Rooms.Domain.RoomAggregate;

/// <summary>
/// The live side of a room: who is in it right now. Membership is copy-on-write, so a reader
/// (a broadcast fanning out) takes a consistent snapshot without locking; writers serialize
/// on the aggregate (the node's room hub locks it).
/// </summary>
public sealed class Room(RoomId id)
{
    private RoomMember[] _members = [];

    public RoomId Id { get; } = id;

    public IReadOnlyList<RoomMember> Members => Volatile.Read(ref _members);

    public bool IsEmpty => Members.Count == 0;

    /// <summary>
    /// Adds the member; an older member of the same device already here is replaced and returned.
    /// A member that a newer one of its device already superseded is not added (see <see cref="RoomMember.Supersedes"/>).
    /// </summary>
    /// <returns>The replaced member, or null.</returns>
    /// <exception cref="InvalidOperationException">A newer member of the device is already here.</exception>
    public RoomMember? Join(RoomMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var current = Volatile.Read(ref _members);
        var index = Array.FindIndex(current, m => m.DeviceId == member.DeviceId);
        var next = (RoomMember[])current.Clone();
        if (index >= 0)
        {
            if (!member.Supersedes(current[index]))
            {
                throw new InvalidOperationException($"Device {member.DeviceId} already has a newer connection in room {Id}.");
            }

            var replaced = next[index];
            next[index] = member;
            Volatile.Write(ref _members, next);
            return replaced;
        }

        Volatile.Write(ref _members, [.. current, member]);
        return null;
    }

    /// <summary>Removes exactly this connection's membership; a newer connection of the same device stays.</summary>
    public bool Leave(RoomMember member)
    {
        var current = Volatile.Read(ref _members);
        var index = Array.IndexOf(current, member);
        if (index < 0)
        {
            return false;
        }

        Volatile.Write(ref _members, [.. current[..index], .. current[(index + 1)..]]);
        return true;
    }

    public RoomMember? FindMember(DeviceId deviceId) =>
        Array.Find(Volatile.Read(ref _members), m => m.DeviceId == deviceId);
}

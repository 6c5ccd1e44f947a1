using Rooms.Application.Contracts;
using Rooms.Application.Sessions;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>
/// This node's rooms (the host implements it): which connections are in which room, the room's channel
/// on the cluster bus while any are (the first local member subscribes it, the last unsubscribes), and
/// delivery to them: stored messages come from the <see cref="ICommitFeed"/> and go out in each room's id
/// order. Deliveries are addressed to a room or a device, never to connections: the hub hands the same
/// frame once to the bus for the room's other nodes.
/// </summary>
public interface IRoomHub
{
    /// <summary>
    /// Makes the identified session's member visible on this node and listens to its room, before anyone
    /// else is told. The connection receives nothing yet (see <see cref="AttachAsync"/>).
    /// </summary>
    Task<HubJoin> JoinAsync(ClientSession session, RoomId roomId, RoomMember member, CancellationToken cancellationToken);

    /// <summary>
    /// Queues <paramref name="reply"/>, then from now on the session receives what is sent to its room and its
    /// device: the room's messages stored from now on, in id order (earlier ones are in its history).
    /// </summary>
    Task AttachAsync(ClientSession session, RoomAssignedDto reply, CancellationToken cancellationToken);

    /// <summary>Forgets the session's member; after this its connection receives nothing more.</summary>
    /// <returns>Whether it was its device's member on this node until now (false when a newer connection had replaced it).</returns>
    bool Leave(ClientSession session);

    /// <summary>The room's members on this node.</summary>
    IReadOnlyList<RoomMember> Members(RoomId roomId);

    /// <summary>The device's member in the room, if this node holds it.</summary>
    RoomMember? Find(RoomId roomId, DeviceId deviceId);

    /// <summary>Occupied rooms of this node and their members (status, metrics, the presence refresh).</summary>
    IReadOnlyDictionary<RoomId, IReadOnlyList<RoomMember>> Rooms();

    /// <summary>Tells every member of the room but <paramref name="exceptDeviceId"/>, on every node, that a device joined or left.</summary>
    void SendPresence(RoomId roomId, DeviceId exceptDeviceId, PresenceEventDto presenceEvent);

    /// <summary>Tells every member of the room, on every node, which devices joined and left within one presence window.</summary>
    void SendPresenceDiff(RoomId roomId, PresenceDiffDto diff);

    /// <summary>Sends a room event (not stored) to every member of the room but <paramref name="exceptDeviceId"/>, on every node.</summary>
    void SendEvent(RoomId roomId, DeviceId exceptDeviceId, IRoomEvent roomEvent);

    /// <summary>Closes the connection behind a member that a newer connection of its device replaced (status 4001), on whichever node holds it.</summary>
    void CloseReplaced(RoomMember replaced);

    /// <summary>Listens again to the node's channel and to every room whose subscription failed (the bus was down when it was made).</summary>
    Task ResubscribeAsync();
}

/// <param name="Local">What this node knows: the device's older member here that the join replaced, or that a newer one was here first.</param>
/// <param name="Listening">The room's channel is subscribed; when not (the bus is down), the shared presence is left to the refresh.</param>
public readonly record struct HubJoin(PresenceJoin Local, bool Listening);

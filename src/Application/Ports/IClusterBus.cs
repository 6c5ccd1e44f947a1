using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>
/// Carries deliveries to the other nodes of a cluster. A node delivers to its own members itself
/// and hands the bus the same frame once for everyone else; on a single node the bus carries nothing.
/// Publications of one node arrive at every other node in the order they were made; a node never
/// receives its own.
/// </summary>
public interface IClusterBus
{
    /// <summary>To the nodes listening to <see cref="ClusterEnvelope.RoomId"/>.</summary>
    void PublishToRoom(ClusterEnvelope envelope);

    /// <summary>To one node (closing a replaced connection there).</summary>
    void PublishToNode(NodeId nodeId, ClusterEnvelope envelope);

    /// <summary>
    /// Listens to the room: what other nodes publish to it goes to <paramref name="to"/> until the returned
    /// subscription is disposed. Completes once the bus confirmed it; throws when it could not.
    /// </summary>
    Task<IAsyncDisposable> SubscribeRoomAsync(RoomId roomId, ILocalDelivery to);

    /// <summary>Listens to this node's own channel (unless it already does): what other nodes send this node goes to <paramref name="to"/>.</summary>
    Task SubscribeNodeAsync(ILocalDelivery to);
}

/// <summary>Receives what other nodes published for this node's connections (the room hub).</summary>
public interface ILocalDelivery
{
    void Deliver(ClusterEnvelope envelope);
}

public enum EnvelopeKind : byte
{
    /// <summary><see cref="ClusterEnvelope.Frame"/> to every member of the room but <see cref="ClusterEnvelope.DeviceId"/>.</summary>
    ToRoom = 1,

    /// <summary><see cref="ClusterEnvelope.Frame"/> to <see cref="ClusterEnvelope.DeviceId"/> in the room.</summary>
    ToDevice = 2,

    /// <summary>Close the device's connection <see cref="ClusterEnvelope.Connection"/> with 4001 (replaced).</summary>
    CloseReplaced = 3,

    /// <summary>A node's health probe to its own channel: proves that subscriptions deliver, not only that Redis answers.</summary>
    Probe = 4,
}

/// <param name="Frame">The serialized frame, as the recipients get it (empty for a close).</param>
/// <param name="RoomId">The room (null for a close or a probe).</param>
/// <param name="DeviceId">The sender a room frame skips, or the device it is for (null when none).</param>
/// <param name="Connection">The connection to close (a close), or the probe's number.</param>
/// <param name="MessageId">For a stored message, its id, and <paramref name="PreviousMessageId"/> the room's message before it: each node delivers a room's messages in id order. None for anything else.</param>
public readonly record struct ClusterEnvelope(
    EnvelopeKind Kind, RoomId? RoomId, DeviceId? DeviceId, ConnectionId Connection, ReadOnlyMemory<byte> Frame, MessageId MessageId = default, MessageId PreviousMessageId = default);

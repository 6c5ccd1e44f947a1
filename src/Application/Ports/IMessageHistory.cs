using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

/// <summary>The read side of stored messages: keyset pages by id, on the (room_id, id) index.</summary>
public interface IMessageHistory
{
    /// <summary>The room's messages with an id above <paramref name="afterId"/> that <paramref name="deviceId"/> could see (broadcasts, directs to or from it), oldest first.</summary>
    /// <param name="maxBytes">The page's contents stay within this (counted at 3 bytes per UTF-16 unit, the most UTF-8 takes); at least one message.</param>
    /// <returns>At most <paramref name="limit"/> messages, and whether more follow.</returns>
    Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageAsync(
        RoomId roomId, DeviceId deviceId, MessageId afterId, int limit, int maxBytes, CancellationToken cancellationToken);

    /// <summary>The newest messages of the room with an id below <paramref name="beforeId"/> that <paramref name="deviceId"/> could see, returned oldest first.</summary>
    /// <returns>At most <paramref name="limit"/> messages within <paramref name="maxBytes"/>, and whether older ones exist.</returns>
    Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageBeforeAsync(
        RoomId roomId, DeviceId deviceId, MessageId beforeId, int limit, int maxBytes, CancellationToken cancellationToken);

    /// <summary>Every message of the room with an id strictly between the two, oldest first (filling a gap in live delivery).</summary>
    Task<IReadOnlyList<HistoryMessage>> BetweenAsync(RoomId roomId, MessageId afterId, MessageId beforeId, CancellationToken cancellationToken);

    /// <summary>The id of the room's last stored message, <see cref="MessageId.None"/> when it has none.</summary>
    Task<MessageId> LastIdAsync(RoomId roomId, CancellationToken cancellationToken);
}

/// <param name="ToDeviceId">Null for a broadcast.</param>
public sealed record HistoryMessage(MessageId Id, DeviceId FromDeviceId, DeviceId? ToDeviceId, MessageType Type, string Content, DateTime SentAt);

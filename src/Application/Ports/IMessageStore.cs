using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Ports;

public interface IMessageStore
{
    /// <summary>
    /// Completes once the row is committed. Never completes before the commit. A message whose
    /// (sender, client message id) was stored before, within the window, is not stored again: the
    /// first one's outcome comes back, marked as a duplicate. A new message is handed to the
    /// <see cref="ICommitFeed"/> right after the commit, before this completes.
    /// </summary>
    ValueTask<StoredMessage> AppendAsync(NewMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Takes every message the store committed (not a duplicate), in id order, on the store's writer, right at
/// the commit: deliveries start in commit order, so every node sees a room's messages in id order without
/// waiting (the room hub implements it, after centrifuge's broker event handler). It must only queue work
/// (put frames in send queues), never block.
/// </summary>
public interface ICommitFeed
{
    void Committed(NewMessage message, StoredMessage stored);
}

/// <param name="ToDeviceId">Null for a broadcast.</param>
/// <param name="ClientMessageId">The client's <c>id</c>, when it asked for an ack.</param>
/// <param name="Recipients">How many devices it was addressed to; kept with the client id, for a repeated ack.</param>
/// <param name="ClientTimestamp">The sender's own <c>timestamp</c>, delivered as it came; null: <paramref name="SentAt"/> is delivered.</param>
public sealed record NewMessage(
    RoomId RoomId, DeviceId FromDeviceId, DeviceId? ToDeviceId, MessageType Type, string Content, DateTime SentAt,
    string? ClientMessageId = null, int Recipients = 0, string? ClientTimestamp = null);

/// <param name="Id">The stored row's id (the first one's, for a duplicate).</param>
/// <param name="PreviousIdInRoom">The id of the room's message stored just before it (none for the first): deliveries of a room go out in id order.</param>
/// <param name="Duplicate">The (sender, client id) was stored before; nothing was stored now.</param>
/// <param name="Recipients">For a duplicate, the recipients the first one was addressed to.</param>
/// <param name="Conflict">The (sender, client id) was stored before for a different message (room, target or content): nothing was stored now.</param>
public sealed record StoredMessage(MessageId Id, MessageId PreviousIdInRoom, bool Duplicate = false, int Recipients = 0, bool Conflict = false)
{
    /// <summary>A row was written for it (not a resend, not a reused id).</summary>
    public bool IsNew => !Duplicate && !Conflict;
}

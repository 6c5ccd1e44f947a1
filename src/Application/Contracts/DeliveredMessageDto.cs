namespace Rooms.Application.Contracts;

/// <summary>A forwarded <c>message</c> frame, built once and sent to every recipient.</summary>
/// <param name="PreviousMessageId">Not on the wire: the room's previous message id, so each node delivers a room's messages in id order.</param>
public sealed record DeliveredMessageDto(string Content, string FromDeviceId, string MessageType, string Timestamp, long MessageId, long PreviousMessageId = 0);

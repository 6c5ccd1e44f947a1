namespace Rooms.Application.Contracts;

/// <summary>A forwarded <c>message</c> frame, built once and sent to every recipient.</summary>
public sealed record DeliveredMessageDto(string Content, string FromDeviceId, string MessageType, string Timestamp, long MessageId);

namespace Rooms.Application.Contracts;

/// <summary>What happened to a sent message: its stored id, whether it was a resend of one stored before (delivered then, not now), and the sender's ack when it asked for one.</summary>
public sealed record SendReceiptDto(long MessageId, bool Duplicate, AckDto? Ack = null);

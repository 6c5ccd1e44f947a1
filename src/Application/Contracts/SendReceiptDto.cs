namespace Rooms.Application.Contracts;

/// <summary>What happened to a sent message: its stored id, and whether it was a resend of one stored before (delivered then, not now).</summary>
public sealed record SendReceiptDto(long MessageId, bool Duplicate);

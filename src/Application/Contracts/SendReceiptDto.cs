namespace Rooms.Application.Contracts;

/// <summary>What happened to a sent message: its stored id and how many send queues of this node took it (other nodes deliver their own members).</summary>
public sealed record SendReceiptDto(long MessageId, int Recipients);

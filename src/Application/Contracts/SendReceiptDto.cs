namespace Rooms.Application.Contracts;

/// <summary>What happened to a sent message: its stored id and how many recipients it was handed to.</summary>
public sealed record SendReceiptDto(long MessageId, int Recipients);

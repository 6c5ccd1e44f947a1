namespace Rooms.Application.Contracts;

/// <summary>The <c>ack</c> frame: the client's <paramref name="Id"/>, the stored message's id, how many devices it was addressed to.</summary>
public sealed record AckDto(string Id, long MessageId, int Recipients);

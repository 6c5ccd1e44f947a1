namespace Rooms.Application.Contracts;

/// <summary>The <c>history</c> answer: messages oldest first, in the delivered format.</summary>
public sealed record HistoryDto(string RoomId, IReadOnlyList<DeliveredMessageDto> Messages, bool HasMore);

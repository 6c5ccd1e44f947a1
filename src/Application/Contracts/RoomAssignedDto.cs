namespace Rooms.Application.Contracts;

/// <summary>The <c>room</c> frame. <paramref name="Status"/> is the wire name: created_new, joined_existing, reconnected, room_not_found.</summary>
public sealed record RoomAssignedDto(string RoomId, string Status);

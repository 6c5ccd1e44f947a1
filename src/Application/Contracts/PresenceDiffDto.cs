namespace Rooms.Application.Contracts;

/// <summary>
/// The coalesced <c>presence</c> frame (docs/protocol.md, "Presence events"): the room's net changes within one
/// presence window, as members that joined and members that left.
/// </summary>
public sealed record PresenceDiffDto(string RoomId, IReadOnlyList<ClientInfoDto> Joins, IReadOnlyList<ClientInfoDto> Leaves);

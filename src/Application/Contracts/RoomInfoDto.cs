namespace Rooms.Application.Contracts;

/// <summary>The <c>room_info</c> frame: <paramref name="TotalClients"/> counts the asker, <paramref name="Clients"/> lists the others.</summary>
public sealed record RoomInfoDto(string RoomId, int TotalClients, IReadOnlyList<ClientInfoDto> Clients);

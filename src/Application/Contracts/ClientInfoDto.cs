namespace Rooms.Application.Contracts;

public sealed record ClientInfoDto(string DeviceId, string Identity);

using AutoMapper;

namespace Rooms.Application.Contracts;

public static class MappingConfiguration
{
    public static MapperConfiguration Create() => new(cfg => cfg.AddProfile<RoomsMappingProfile>());
}

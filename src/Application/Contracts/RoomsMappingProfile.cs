using AutoMapper;
using Rooms.Domain.Rooms;

namespace Rooms.Application.Contracts;

public sealed class RoomsMappingProfile : Profile
{
    public RoomsMappingProfile()
    {
        CreateMap<RoomMember, ClientInfoDto>();
    }
}

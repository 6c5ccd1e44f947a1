using AutoMapper;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Contracts;

public sealed class RoomsMappingProfile : Profile
{
    public RoomsMappingProfile()
    {
        CreateMap<RoomMember, ClientInfoDto>();
    }
}

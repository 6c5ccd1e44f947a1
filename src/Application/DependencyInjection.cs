using AutoMapper;
using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Common;
using Rooms.Application.Connections.Disconnect;
using Rooms.Application.Contracts;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Rooms.Identify;
using Rooms.Application.Rooms.QueryRoom;

namespace Rooms.Application;

public static class DependencyInjection
{
    /// <summary>
    /// MediatR 5 has no DI package we may use, so it is wired by hand: the mediator resolves
    /// handlers and behaviors through <see cref="ServiceFactory"/>. Everything is a singleton
    /// so that a frame costs no scope and no per-request construction.
    /// </summary>
    public static IServiceCollection AddApplication(this IServiceCollection services, ProtocolSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<ServiceFactory>(provider => provider.GetService!);
        services.AddSingleton<IMediator, Mediator>();

        services.AddRequest<IdentifyCommand, RoomAssignedDto, IdentifyHandler>();
        services.AddRequest<SendMessageCommand, SendReceiptDto, SendMessageHandler>();
        services.AddRequest<QueryRoomQuery, RoomInfoDto, QueryRoomHandler>();
        services.AddRequest<DisconnectCommand, bool, DisconnectHandler>();

        services.AddValidatorsFromAssemblyContaining<IdentifyValidator>(ServiceLifetime.Singleton);
        services.AddSingleton(MappingConfiguration.Create().CreateMapper());
        return services;
    }

    /// <summary>Registers a request's handler behind the validation behavior.</summary>
    private static void AddRequest<TRequest, TValue, THandler>(this IServiceCollection services)
        where TRequest : IRequest<Result<TValue>>
        where THandler : class, IRequestHandler<TRequest, Result<TValue>>
    {
        services.AddSingleton<IRequestHandler<TRequest, Result<TValue>>, THandler>();
        services.AddSingleton<IPipelineBehavior<TRequest, Result<TValue>>, ValidationBehavior<TRequest, TValue>>();
    }
}

using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Common;
using Rooms.Application.Contracts;

namespace Rooms.Application;

public static class DependencyInjection
{
    /// <summary>
    /// MediatR 5 has no DI package we may use, so it is wired by hand: the mediator resolves
    /// handlers and behaviors through <see cref="ServiceFactory"/>. Every request handler of this
    /// assembly is found and registered behind the validation behavior (and, for a request that
    /// <see cref="IUsesStorage"/>, the storage-failure behavior), so a new use case needs no line here. Everything is a singleton so that a frame costs no scope and no per-request construction.
    /// </summary>
    public static IServiceCollection AddApplication(this IServiceCollection services, ProtocolSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<StorageOutageLog>();
        services.AddSingleton<Membership.RoomPresence>();
        services.AddSingleton<Membership.PresenceBatcher>();
        services.AddSingleton<RoomsMetrics>();
        services.AddSingleton<ServiceFactory>(provider => provider.GetService!);
        services.AddSingleton<IMediator, Mediator>();

        foreach (var handler in typeof(DependencyInjection).Assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false }))
        {
            foreach (var contract in handler.GetInterfaces().Where(IsResultHandler))
            {
                var (request, result) = (contract.GenericTypeArguments[0], contract.GenericTypeArguments[1]);
                services.AddSingleton(contract, handler);

                // Validation outermost: a frame that breaks a rule never reaches storage.
                var behavior = typeof(IPipelineBehavior<,>).MakeGenericType(request, result);
                services.AddSingleton(behavior, typeof(ValidationBehavior<,>).MakeGenericType(request, result.GenericTypeArguments[0]));
                if (typeof(IUsesStorage).IsAssignableFrom(request))
                {
                    services.AddSingleton(behavior, typeof(StorageFailureBehavior<,>).MakeGenericType(request, result.GenericTypeArguments[0]));
                }
            }
        }

        services.AddValidatorsFromAssembly(typeof(DependencyInjection).Assembly, ServiceLifetime.Singleton);
        services.AddSingleton(MappingConfiguration.Create().CreateMapper());
        return services;
    }

    /// <summary>Handlers answer with a <see cref="Result{T}"/>, which the validation behavior can fail.</summary>
    private static bool IsResultHandler(Type contract) =>
        contract.IsGenericType
        && contract.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)
        && contract.GenericTypeArguments[1].IsGenericType
        && contract.GenericTypeArguments[1].GetGenericTypeDefinition() == typeof(Result<>);
}

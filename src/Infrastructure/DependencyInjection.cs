using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.Infrastructure.Auth;
using Rooms.Infrastructure.Cluster;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Nodes;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.SingleNode;

namespace Rooms.Infrastructure;

public static class DependencyInjection
{
    /// <summary>
    /// Storage, and presence and fan-out: in memory for a node alone, through Redis when
    /// <see cref="ClusterSettings.Redis"/> is set. The host provides <see cref="IRoomHub"/>, and <see cref="ICommitFeed"/>.
    /// </summary>
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, DatabaseSettings settings, ClusterSettings cluster, AuthSettings auth)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(auth);
        services.AddSingleton(auth);
        if (auth.Mode == AuthMode.Token)
        {
            services.AddSingleton<IDeviceAuthenticator, JwtDeviceAuthenticator>();
        }
        else
        {
            services.AddSingleton<IDeviceAuthenticator, OpenDeviceAuthenticator>();
        }

        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            DatabaseProviderSetup.EnsureSqliteFolder(settings.ConnectionString);
        }

        services.AddSingleton(settings);
        services.AddSingleton(cluster);
        services.AddSingleton(new NodeIdentity(new NodeId(cluster.NodeId ?? ClusterSettings.DefaultNodeId(0)), Guid.NewGuid().ToString("N")));

        // The only way to a database context (its factory is registered nowhere else).
        services.AddSingleton<DatabaseGate>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<LocalNodeLock>();
        services.AddSingleton<NodeLifecycle>();
        // The writers and the retry loop start as hosted services (not in their constructors) and stop when the
        // container is disposed, after the web server: what the last connections do during a shutdown is still stored.
        AddStartedSingleton<IRoomRepository, RoomRepository>(services);
        AddStartedSingleton<IConnectionCloseRetries, ConnectionCloseRetries>(services);
        AddStartedSingleton<IMessageStore, GroupCommitMessageStore>(services);
        services.AddSingleton<IMessageHistory, MessageHistory>();
        services.AddSingleton<ClientMessageIdJanitor>();
        services.AddSingleton<RetentionJanitor>();
        services.AddSingleton(TimeProvider.System);

        if (cluster.Enabled)
        {
            services.AddSingleton(provider => RedisConnection.Connect(cluster.Redis!, provider.GetRequiredService<ILogger<RedisConnection>>()));
            services.AddSingleton<RedisClusterBus>();
            services.AddSingleton<IClusterBus>(provider => provider.GetRequiredService<RedisClusterBus>());
            services.AddSingleton<IPresence, RedisPresence>();
            services.AddHostedService<PresenceRefresher>();
            services.AddSingleton<IClusterStatus, RedisClusterStatus>();
        }
        else
        {
            services.AddSingleton<IClusterBus, LocalOnlyBus>();
            services.AddSingleton<IPresence, SingleNodePresence>();
            services.AddSingleton<IClusterStatus, SingleNodeStatus>();
        }

        return services;
    }

    private static void AddStartedSingleton<TService, TImplementation>(IServiceCollection services)
        where TService : class
        where TImplementation : class, TService, IHostedService
    {
        services.AddSingleton<TImplementation>();
        services.AddSingleton<TService>(provider => provider.GetRequiredService<TImplementation>());
        services.AddHostedService(provider => provider.GetRequiredService<TImplementation>());
    }
}

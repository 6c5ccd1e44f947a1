using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Presence;

namespace Rooms.Infrastructure;

public static class DependencyInjection
{
    private const int ContextPoolSize = 64;

    public static IServiceCollection AddInfrastructure(this IServiceCollection services, DatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            DatabaseProviderSetup.EnsureSqliteFolder(settings.ConnectionString);
        }

        services.AddSingleton(settings);
        // A pool keeps every context it ever handed out at once; bursts of identifies would otherwise
        // leave up to 1 024 contexts (and their service scopes) alive for good.
        services.AddPooledDbContextFactory<RoomsDbContext>(options => options.UseRoomsDatabase(settings), poolSize: ContextPoolSize);
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<IRoomRepository, RoomRepository>();
        services.AddSingleton<IMessageStore, GroupCommitMessageStore>();
        services.AddSingleton<IPresence, InMemoryPresence>();
        services.AddSingleton<IClock, SystemClock>();
        return services;
    }
}

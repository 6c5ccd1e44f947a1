using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Presence;

namespace Rooms.Infrastructure;

public static class DependencyInjection
{
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, DatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Provider == DatabaseProvider.Sqlite)
        {
            DatabaseProviderSetup.EnsureSqliteFolder(settings.ConnectionString);
        }

        services.AddSingleton(settings);
        services.AddPooledDbContextFactory<RoomsDbContext>(options => options.UseRoomsDatabase(settings));
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<IRoomRepository, RoomRepository>();
        services.AddSingleton<IMessageStore, GroupCommitMessageStore>();
        services.AddSingleton<IPresence, InMemoryPresence>();
        services.AddSingleton<IClock, SystemClock>();
        return services;
    }
}

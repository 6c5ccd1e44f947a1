using Microsoft.EntityFrameworkCore.Design;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Migrations.Sqlite;

/// <summary>Lets dotnet-ef build the model without a live server (the connection string is never opened for 'migrations add' or 'migrations script').</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<RoomsDbContext>
{
    public RoomsDbContext CreateDbContext(string[] args)
    {
        return DatabaseProviderSetup.CreateContext(new DatabaseSettings
        {
            Provider = DatabaseProvider.Sqlite,
            ConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Rooms") ?? "Data Source=design-time.db",
        });
    }
}

using Microsoft.EntityFrameworkCore.Design;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Migrations.MySql;

/// <summary>Lets dotnet-ef build the model without a live server (the connection string is never opened for 'migrations add' or 'migrations script').</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<RoomsDbContext>
{
    public RoomsDbContext CreateDbContext(string[] args)
    {
        return DatabaseProviderSetup.CreateContext(new DatabaseSettings
        {
            Provider = DatabaseProvider.MySql,
            ConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Rooms") ?? "Server=localhost;Database=rooms;User=rooms;Password=design-time",
        });
    }
}

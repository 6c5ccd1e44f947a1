using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.Infrastructure.Tests;

public sealed class MigrationTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public void Model_HasNoChangesWithoutMigration(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        using var db = database.OpenContext();

        Assert.False(db.Database.HasPendingModelChanges(), "The model changed: add a migration (see README, 'Changing the schema').");
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task Migrate_EmptyDatabase_CreatesTheFiveTables(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        await using var db = database.OpenContext();

        await db.Database.MigrateAsync();

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(0, await db.Rooms.CountAsync());
        Assert.Equal(0, await db.Devices.CountAsync());
        Assert.Equal(0, await db.Connections.CountAsync());
        Assert.Equal(0, await db.Messages.CountAsync());
        Assert.Equal(0, await db.RoomQueries.CountAsync());
    }

    [Fact]
    public void CheckedInMySqlScript_MatchesMigrations()
    {
        using var db = new Migrations.MySql.DesignTimeDbContextFactory().CreateDbContext([]);
        var generated = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
        var checkedIn = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "migrations", "MySql", "rooms-mysql.sql"));

        Assert.True(Normalize(generated) == Normalize(checkedIn),
            "migrations/MySql/rooms-mysql.sql is out of date: run ./scripts/update-sql-script.sh");
    }

    private static string Normalize(string sql) => sql.Trim('\uFEFF', ' ', '\r', '\n').ReplaceLineEndings("\n");
}

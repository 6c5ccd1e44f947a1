using Rooms.Infrastructure.Persistence;
using Rooms.WebSocketHost;

var app = RoomsHost.Build(args);

if (args.Contains(RoomsHost.MigrateCommand))
{
    // What CI and deploys run: apply pending migrations, then exit.
    await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(CancellationToken.None);
    return 0;
}

var exitCode = await app.StartServingAsync();
if (exitCode != 0)
{
    return exitCode;
}

await app.WaitForShutdownAsync();
return 0;

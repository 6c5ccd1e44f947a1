using Rooms.Infrastructure.Persistence;
using Rooms.WebSocketHost;

if (args.FirstOrDefault() == RoomsHost.TokenCommand)
{
    return RoomsHost.PrintToken(args);
}

WebApplication app;
try
{
    app = RoomsHost.Build(args);
}
catch (InvalidOperationException invalid)
{
    // A setting out of range: one line saying which, not a stack trace.
    Console.Error.WriteLine($"Rooms cannot start: {invalid.Message}");
    return 1;
}

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

using Rooms.WebSocketHost;
using Rooms.WebSocketHost.Cli;

if (args.FirstOrDefault() == TokenCommand.Name)
{
    return TokenCommand.Run(args);
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

if (args.Contains(MigrateCommand.Name))
{
    // What CI and deploys run: apply pending migrations, then exit.
    return await MigrateCommand.RunAsync(app);
}

var exitCode = await app.StartServingAsync();
if (exitCode != 0)
{
    return exitCode;
}

await app.WaitForShutdownAsync();
return 0;

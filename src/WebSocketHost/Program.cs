using Rooms.WebSocketHost;
using Rooms.WebSocketHost.Cli;

var (verb, word) = Usage.Parse(args);
switch (verb)
{
    case Usage.Verb.Help:
        Console.WriteLine(Usage.Text);
        return 0;
    case Usage.Verb.Unknown:
        Console.Error.WriteLine($"Rooms: unknown command '{word}' (commands: migrate, token; --help for the usage). Nothing was started.");
        return 2;
    case Usage.Verb.Token:
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

if (verb == Usage.Verb.Migrate)
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

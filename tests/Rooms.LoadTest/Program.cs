using Rooms.LoadTest;
using Spectre.Console.Cli;

// Load generator for any server speaking the Rooms protocol (docs/protocol.md). See README, "Performance".
if (Console.IsOutputRedirected)
{
    // Logs and CI capture: keep each table row on one line.
    Spectre.Console.AnsiConsole.Profile.Width = 160;
}

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("Rooms.LoadTest");
    config.AddCommand<RunCommand>("run").WithDescription("Send at a fixed total rate for a duration; report deliveries, loss and latency.");
    config.AddCommand<RampCommand>("ramp").WithDescription("Step the rate up; report the highest rate held with p99 under target and zero loss; write an SVG chart.");
    config.AddCommand<HistoryCommand>("history").WithDescription("Ask for history pages from random cursors; report latency per page.");
    config.AddCommand<StormCommand>("storm").WithDescription("N devices with known rooms reconnect at once (a server restart); report time until all are back and identify latency.");
    config.AddCommand<BigRoomCommand>("bigroom").WithDescription("One room of N devices: built by sequential joins, query_room, a reconnect storm, then broadcasts; reports presence cost and server memory.");
    config.AddCommand<BareServerCommand>("bare-server").WithDescription("Serve the protocol's frames with nothing else (no storage): the baseline a Rooms server is compared with.");
    config.AddCommand<ConnectionsCommand>("connections").WithDescription("Open N idle identified connections; report the server's memory per connection.");
});
return await app.RunAsync(args);

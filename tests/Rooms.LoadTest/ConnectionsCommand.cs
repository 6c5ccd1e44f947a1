using System.ComponentModel;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal sealed class ConnectionsSettings : CommonSettings
{
    [CommandOption("-n|--connections")]
    [DefaultValue(10000)]
    public int Connections { get; init; } = 10000;

    [CommandOption("-k|--devices")]
    [Description("Devices per room.")]
    [DefaultValue(10)]
    public int Devices { get; init; } = 10;

    [CommandOption("--server-pid")]
    [Description("The server's process id, to read its resident memory (the server must run on this machine).")]
    public int? ServerPid { get; init; }

    [CommandOption("--settle")]
    [Description("Seconds to wait with all connections idle before reading memory.")]
    [DefaultValue(10)]
    public int Settle { get; init; } = 10;
}

/// <summary>Opens N idle, identified connections and reports the server's resident memory per connection.</summary>
internal sealed class ConnectionsCommand : AsyncCommand<ConnectionsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ConnectionsSettings settings, CancellationToken cancellationToken)
    {
        var uri = settings.Servers;

        // Warm the server (JIT, pools, database) so the baseline is not its cold start.
        await using (var warm = await Swarm.ConnectAsync(uri, 10, settings.Devices, null, cancellationToken))
        {
        }

        await Task.Delay(TimeSpan.FromSeconds(settings.Settle), cancellationToken);
        var before = Terminal.ServerResidentBytes(settings.ServerPid);
        var rooms = (settings.Connections + settings.Devices - 1) / settings.Devices;
        var started = DateTime.UtcNow;
        await using var swarm = await Swarm.ConnectAsync(uri, rooms, settings.Devices,
            n => { if (!settings.Json && n % 1000 == 0) { AnsiConsole.MarkupLine($"[grey]{n:N0} connected[/]"); } },
            cancellationToken);
        var connectSeconds = (DateTime.UtcNow - started).TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(settings.Settle), cancellationToken);
        var after = Terminal.ServerResidentBytes(settings.ServerPid);

        var perConnection = before is null || after is null ? (double?)null : (after.Value - before.Value) / (double)swarm.DeviceCount;
        if (settings.Json)
        {
            System.Console.WriteLine(JsonSerializer.Serialize(new
            {
                connections = swarm.DeviceCount,
                connect_seconds = Math.Round(connectSeconds, 1),
                server_rss_before_bytes = before,
                server_rss_after_bytes = after,
                server_bytes_per_connection = perConnection is null ? (double?)null : Math.Round(perConnection.Value),
                closed_by_server = LoadStatsHub.Disconnects,
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            var table = new Table().AddColumns("connections", "connect time", "server RSS before", "server RSS after", "per connection");
            table.AddRow($"{swarm.DeviceCount:N0}", $"{connectSeconds:0.0} s", Mib(before), Mib(after),
                perConnection is null ? "(give --server-pid)" : $"{perConnection / 1024:0.0} KiB");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"closed by server: {LoadStatsHub.Disconnects}");
        }

        return LoadStatsHub.Disconnects == 0 ? 0 : 1;
    }

    private static string Mib(long? bytes) => bytes is null ? "-" : $"{bytes / 1024.0 / 1024.0:0.0} MiB";
}

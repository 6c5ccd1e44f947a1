using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal sealed class StormSettings : CommonSettings
{
    [CommandOption("-n|--devices")]
    [DefaultValue(10000)]
    public int Devices { get; init; } = 10000;

    [CommandOption("-k|--per-room|--room-size")]
    [Description("Devices per room (5000 with -n 5000: one big room).")]
    [DefaultValue(10)]
    public int PerRoom { get; init; } = 10;

    [CommandOption("--sources")]
    [Description("Client addresses the devices connect from (127.0.0.2, .3, ...); 0: the default. With a server's default per-address limits, 5 000 devices need 5 or more.")]
    [DefaultValue(0)]
    public int Sources { get; init; }

    [CommandOption("--backoff")]
    [Description("Retry a refused upgrade as the client libraries do (full jitter from 250 ms, doubling; a 503's Retry-After honoured), instead of counting it failed.")]
    public bool Backoff { get; init; }
}

/// <summary>
/// What a server restart looks like to it: N devices that were in rooms before all reconnect at the same
/// moment and identify without a room id (status reconnected). Reports the time until the last one is back,
/// identifies per second over that time, and each identify's latency (identify sent to room frame).
/// </summary>
internal sealed class StormCommand : AsyncCommand<StormSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StormSettings settings, CancellationToken cancellationToken)
    {
        var servers = settings.Servers;
        System.Net.IPAddress? Source(int device) => settings.Sources > 0 ? new System.Net.IPAddress([127, 0, 0, (byte)(2 + (device % settings.Sources))]) : null;
        List<(string DeviceId, string RoomId)> members;
        await using (var swarm = await Swarm.ConnectAsync(servers, (settings.Devices + settings.PerRoom - 1) / settings.PerRoom, settings.PerRoom, null, cancellationToken, Source))
        {
            members = [.. swarm.Members];
        }

        // Let the server finish the disconnects before the storm.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        if (!settings.Json)
        {
            AnsiConsole.MarkupLine($"[grey]{members.Count:N0} devices known; reconnecting all at once[/]");
        }

        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(members.Select((member, i) => Task.Run(async () =>
        {
            try
            {
                var (device, attempts) = settings.Backoff
                    ? await SimulatedDevice.ConnectWithBackoffAsync(servers[i % servers.Count], member.DeviceId, Source(i), cancellationToken)
                    : (await SimulatedDevice.ConnectAsync(servers[i % servers.Count], member.DeviceId, null, cancellationToken, Source(i)), 1);
                var back = Stopwatch.GetElapsedTime(started);
                var ok = device.Status == "reconnected" && device.RoomId == member.RoomId;
                return (Device: device, Back: back, Ok: ok, Error: ok ? null : $"{device.Status} {device.RoomId}", Attempts: attempts);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return (Device: (SimulatedDevice?)null, Back: Stopwatch.GetElapsedTime(started), Ok: false, Error: ex.Message, Attempts: 1);
            }
        }, cancellationToken)));
        var retried = results.Count(r => r.Attempts > 1);

        var allBack = results.Max(r => r.Back);
        var latencies = results.Where(r => r.Ok).Select(r => r.Device!.IdentifyLatency.TotalMilliseconds).Order().ToArray();
        var failed = results.Count(r => !r.Ok);
        await Task.WhenAll(results.Where(r => r.Device is not null).Select(r => r.Device!.DisposeAsync().AsTask()));

        var perSecond = results.Length / allBack.TotalSeconds;
        double Percentile(double p) => Terminal.Percentile(latencies, p);
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                devices = results.Length,
                all_back_seconds = Math.Round(allBack.TotalSeconds, 2),
                identifies_per_second = Math.Round(perSecond),
                identify_p50_ms = Math.Round(Percentile(0.50), 1),
                identify_p99_ms = Math.Round(Percentile(0.99), 1),
                identify_max_ms = Math.Round(Percentile(1.0), 1),
                failed,
                retried_after_a_refusal = retried,
                most_attempts = results.Max(r => r.Attempts),
                first_errors = results.Where(r => !r.Ok).Select(r => r.Error).Distinct().Take(5),
            }, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            var table = new Table().AddColumns("devices", "all back after", "identifies/s", "identify p50", "identify p99", "max", "failed", "retried");
            table.AddRow($"{results.Length:N0}", $"{allBack.TotalSeconds:0.00} s", $"{perSecond:N0}", $"{Percentile(0.5):0.0} ms", $"{Percentile(0.99):0.0} ms", $"{Percentile(1):0.0} ms", $"{failed}", $"{retried}");
            AnsiConsole.Write(table);
            foreach (var error in results.Where(r => !r.Ok).Select(r => r.Error).Distinct().Take(5))
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(error ?? string.Empty)}[/]");
            }
        }

        return failed == 0 ? 0 : 1;
    }
}

using System.ComponentModel;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal class CommonSettings : CommandSettings
{
    [CommandOption("-u|--url")]
    [Description("WebSocket address of any server speaking the Rooms protocol. Several, comma-separated (nodes of one cluster): every room's devices are spread over them in turn.")]
    [DefaultValue("ws://127.0.0.1:8765/")]
    public string Url { get; init; } = "ws://127.0.0.1:8765/";

    public IReadOnlyList<Uri> Servers => [.. Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u))];

    [CommandOption("--json")]
    [Description("Print the results as JSON (no live display).")]
    public bool Json { get; init; }
}

internal class LoadSettings : CommonSettings
{
    [CommandOption("-r|--rooms")]
    [DefaultValue(20)]
    public int Rooms { get; init; } = 20;

    [CommandOption("-k|--devices")]
    [Description("Devices per room.")]
    [DefaultValue(10)]
    public int Devices { get; init; } = 10;

    [CommandOption("--direct-ratio")]
    [Description("Share of messages sent direct (0 = all broadcast, 1 = all direct).")]
    [DefaultValue(0.0)]
    public double DirectRatio { get; init; }

    [CommandOption("--padding")]
    [Description("Extra content characters per message.")]
    [DefaultValue(0)]
    public int Padding { get; init; }

    [CommandOption("--warmup")]
    [Description("Seconds sent at the first rate before measuring.")]
    [DefaultValue(5)]
    public int Warmup { get; init; } = 5;

    [CommandOption("--drain")]
    [Description("Seconds to wait for deliveries after the last send before counting the rest as lost.")]
    [DefaultValue(5)]
    public int Drain { get; init; } = 5;

    [CommandOption("--ids")]
    [Description("Send every message with a client id, as a client that wants acks and exactly-once does (the server then also stores the id and acks).")]
    public bool Ids { get; init; }

    [CommandOption("--server-pid")]
    [Description("The server's process id (same machine): each step also reports the server's CPU time per message sent, the measure that latency at moderate load hides.")]
    public int? ServerPid { get; init; }

    [CommandOption("--p99-target")]
    [Description("A step holds when p99 (ms) is at most this and nothing is lost.")]
    [DefaultValue(50.0)]
    public double P99TargetMs { get; init; } = 50;
}

internal sealed class RunSettings : LoadSettings
{
    [CommandOption("--rate")]
    [Description("Messages sent per second, in total, on a fixed schedule (open loop).")]
    [DefaultValue(1000.0)]
    public double Rate { get; init; } = 1000;

    [CommandOption("-d|--duration")]
    [Description("Seconds to send.")]
    [DefaultValue(30)]
    public int Duration { get; init; } = 30;
}

internal sealed class RampSettings : LoadSettings
{
    [CommandOption("--from")]
    [DefaultValue(1000.0)]
    public double From { get; init; } = 1000;

    [CommandOption("--to")]
    [DefaultValue(10000.0)]
    public double To { get; init; } = 10000;

    [CommandOption("--step")]
    [DefaultValue(1000.0)]
    public double Step { get; init; } = 1000;

    [CommandOption("--step-duration")]
    [Description("Seconds per rate step.")]
    [DefaultValue(15)]
    public int StepDuration { get; init; } = 15;

    [CommandOption("--svg")]
    [Description("Where to write the rate vs p99 chart.")]
    [DefaultValue("ramp.svg")]
    public string Svg { get; init; } = "ramp.svg";
}

internal sealed class RunCommand : AsyncCommand<RunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        await using var swarm = await Terminal.ConnectAsync(settings, cancellationToken);
        if (settings.Warmup > 0)
        {
            await Terminal.RunStepAsync(swarm, settings, 0, settings.Rate, settings.Warmup, "warm-up", cancellationToken);
        }

        var result = await Terminal.RunStepAsync(swarm, settings, 1, settings.Rate, settings.Duration, "measure", cancellationToken);
        Terminal.Report(settings, [result]);
        return result.Held ? 0 : 1;
    }
}

internal sealed class RampCommand : AsyncCommand<RampSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RampSettings settings, CancellationToken cancellationToken)
    {
        await using var swarm = await Terminal.ConnectAsync(settings, cancellationToken);
        if (settings.Warmup > 0)
        {
            await Terminal.RunStepAsync(swarm, settings, 0, settings.From, settings.Warmup, "warm-up", cancellationToken);
        }

        var results = new List<StepResult>();
        var step = 1;
        var failuresInARow = 0;
        for (var rate = settings.From; rate <= settings.To && failuresInARow < 2; rate += settings.Step, step++)
        {
            var result = await Terminal.RunStepAsync(swarm, settings, step, rate, settings.StepDuration, $"{rate:0}/s", cancellationToken);
            results.Add(result);
            failuresInARow = result.Held ? 0 : failuresInARow + 1;
        }

        Terminal.Report(settings, results);
        var best = results.Where(r => r.Held).Select(r => r.TargetRate).DefaultIfEmpty(0).Max();
        File.WriteAllText(settings.Svg, RampChart.Render(results, settings.P99TargetMs, $"{settings.Rooms} rooms x {settings.Devices} devices"));
        if (!settings.Json)
        {
            AnsiConsole.MarkupLine($"Highest rate held (p99 <= {settings.P99TargetMs} ms, zero loss): [bold]{best:0} sent/s[/]. Chart: {settings.Svg}");
        }

        return best > 0 ? 0 : 1;
    }
}

/// <summary>Shared console plumbing: connecting with progress, running a step with a live line, the final table.</summary>
internal static class Terminal
{
    public static async Task<Swarm> ConnectAsync(LoadSettings settings, CancellationToken cancellationToken)
    {
        var total = settings.Rooms * settings.Devices;
        SimulatedDevice.SendIds = settings.Ids;
        if (settings.Json)
        {
            return await Swarm.ConnectAsync(settings.Servers, settings.Rooms, settings.Devices, null, cancellationToken);
        }

        Swarm? swarm = null;
        await AnsiConsole.Progress().StartAsync(async progress =>
        {
            var task = progress.AddTask($"Connecting {settings.Rooms} rooms x {settings.Devices} devices", maxValue: total);
            swarm = await Swarm.ConnectAsync(settings.Servers, settings.Rooms, settings.Devices, n => task.Value = n, cancellationToken);
        });
        return swarm!;
    }

    public static async Task<StepResult> RunStepAsync(Swarm swarm, LoadSettings settings, int step, double rate, int seconds, string label, CancellationToken cancellationToken)
    {
        var duration = TimeSpan.FromSeconds(seconds);
        Action<StepStats, TimeSpan>? live = null;
        if (!settings.Json)
        {
            live = (stats, elapsed) => AnsiConsole.MarkupLine(
                $"[grey]{label,-8} {elapsed.TotalSeconds,5:0.0}s[/] sent {stats.Sent,9:N0} delivered {stats.Delivered,10:N0}/{stats.Expected,-10:N0} p99 {stats.PercentileMs(99),6:0.0} ms errors {LoadStatsHub.Errors}");
        }

        var cpuBefore = ServerCpu(settings.ServerPid);
        var stats = await swarm.RunStepAsync(step, rate, duration, settings.DirectRatio, settings.Padding, TimeSpan.FromSeconds(settings.Drain), live, cancellationToken);
        var cpu = ServerCpu(settings.ServerPid) - cpuBefore;
        return StepResult.From(stats, seconds, settings.P99TargetMs, cpu);
    }

    /// <summary>The value at percentile <paramref name="p"/> (0-1) of an ascending array (nearest rank); NaN when empty.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>One whole text frame into <paramref name="buffer"/> (which must hold it); its length.</summary>
    public static async Task<int> ReceiveFrameAsync(System.Net.WebSockets.ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
            count += result.Count;
            if (result.EndOfMessage)
            {
                return count;
            }
        }
    }

    /// <summary>The server's resident memory (VmRSS, from /proc: the server must run on this machine), or null without --server-pid.</summary>
    public static long? ServerResidentBytes(int? pid)
    {
        if (pid is null)
        {
            return null;
        }

        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The server's user + system CPU time so far, or null without --server-pid.</summary>
    public static TimeSpan? ServerCpu(int? pid)
    {
        if (pid is null)
        {
            return null;
        }

        using var process = System.Diagnostics.Process.GetProcessById(pid.Value);
        return process.TotalProcessorTime;
    }

    public static void Report(LoadSettings settings, IReadOnlyList<StepResult> results)
    {
        if (settings.Json)
        {
            System.Console.WriteLine(JsonSerializer.Serialize(new
            {
                settings.Url,
                settings.Rooms,
                DevicesPerRoom = settings.Devices,
                settings.DirectRatio,
                settings.P99TargetMs,
                TotalSent = LoadStatsHub.TotalSent,
                Errors = LoadStatsHub.Errors,
                ServerDisconnects = LoadStatsHub.Disconnects,
                Steps = results,
            }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            return;
        }

        var table = new Table().Title($"{settings.Rooms} rooms x {settings.Devices} devices, {settings.DirectRatio:P0} direct");
        foreach (var column in new[] { "rate/s", "sent", "delivered", "lost", "sent/s", "deliveries/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "server CPU us/msg", "held" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var r in results)
        {
            table.AddRow(
                $"{r.TargetRate:0}", $"{r.Sent:N0}", $"{r.Delivered:N0}", $"{r.Lost:N0}", $"{r.SentPerSecond:N0}", $"{r.DeliveriesPerSecond:N0}",
                $"{r.P50Ms:0.0}", $"{r.P90Ms:0.0}", $"{r.P99Ms:0.0}", $"{r.MaxMs:0.0}", r.ServerCpuMicrosPerMessage is { } cpu ? $"{cpu:0}" : "-",
                r.Held ? "[green]yes[/]" : "[red]no[/]");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"total sent (warm-up included): {LoadStatsHub.TotalSent}, error frames: {LoadStatsHub.Errors}, closed by server: {LoadStatsHub.Disconnects}");
        foreach (var error in LoadStatsHub.FirstErrors)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]  {error}[/]");
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal sealed class BigRoomSettings : CommonSettings
{
    [CommandOption("-n|--devices")]
    [Description("Devices in the one room.")]
    [DefaultValue(5000)]
    public int Devices { get; init; } = 5000;

    [CommandOption("--rate")]
    [Description("Broadcasts per second into the room after the storm (0: no broadcast phase).")]
    [DefaultValue(5.0)]
    public double Rate { get; init; } = 5;

    [CommandOption("-d|--duration")]
    [Description("Seconds of broadcasting.")]
    [DefaultValue(30)]
    public int Duration { get; init; } = 30;

    [CommandOption("--no-storm")]
    [Description("Skip the reconnect storm (an idle room: build, query, memory).")]
    public bool NoStorm { get; init; }

    [CommandOption("--server-pid")]
    [Description("The server's process id (same machine): reports its resident memory per connection once the room is built.")]
    public int? ServerPid { get; init; }

    [CommandOption("--settle")]
    [Description("Seconds to wait, idle, before reading the server's memory.")]
    [DefaultValue(5)]
    public int Settle { get; init; } = 5;

    [CommandOption("--p99-target")]
    [DefaultValue(200.0)]
    public double P99TargetMs { get; init; } = 200;
}

/// <summary>
/// One room of N devices: built by sequential joins (each device joins after the previous one is in), asked
/// <c>query_room</c>, emptied and refilled by a reconnect storm (every device closes, then all reconnect at once
/// into their last room), then broadcast into at a fixed rate. Reports each phase, and the presence frames and
/// bytes the devices received: what presence costs a big room.
/// </summary>
internal sealed class BigRoomCommand : AsyncCommand<BigRoomSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BigRoomSettings settings, CancellationToken cancellationToken)
    {
        var servers = settings.Servers;
        var run = Guid.NewGuid().ToString("N")[..6];
        Swarm? swarm = null;
        var devices = new List<SimulatedDevice>(settings.Devices);
        var rssBefore = Terminal.ServerResidentBytes(settings.ServerPid);

        // Build: one join after another, each device reading from the moment it is in.
        var built = Stopwatch.StartNew();
        string? roomId = null;
        for (var i = 0; i < settings.Devices; i++)
        {
            var device = await SimulatedDevice.ConnectAsync(servers[i % servers.Count], $"big{run}-d{i}", roomId, cancellationToken);
            roomId ??= device.RoomId;
            device.Start(step => swarm?.StepStats(step));
            devices.Add(device);
            if (!settings.Json && (i + 1) % 1000 == 0)
            {
                AnsiConsole.MarkupLine($"[grey]build {i + 1,6:N0} in {built.Elapsed.TotalSeconds,6:0.0} s, presence frames so far {LoadStatsHub.PresenceFrames:N0}[/]");
            }
        }

        built.Stop();
        var buildPresence = (Frames: LoadStatsHub.PresenceFrames, Bytes: LoadStatsHub.PresenceBytes);
        await Task.Delay(TimeSpan.FromSeconds(settings.Settle), cancellationToken);
        var rssAfter = Terminal.ServerResidentBytes(settings.ServerPid);
        var perConnection = rssBefore is null || rssAfter is null ? (double?)null : (rssAfter.Value - rssBefore.Value) / (double)settings.Devices;

        var query = await QueryAsync(servers[0], $"big{run}-asker", roomId!, cancellationToken);

        // Storm: every device closes; once the server has seen them go, all reconnect at the same moment.
        StormResult? storm = null;
        if (!settings.NoStorm)
        {
            await Task.WhenAll(devices.Select(d => d.DisposeAsync().AsTask()));
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var presenceBefore = (LoadStatsHub.PresenceFrames, LoadStatsHub.PresenceBytes);
            var cpuBefore = Terminal.ServerCpu(settings.ServerPid);
            var started = Stopwatch.GetTimestamp();
            var back = await Task.WhenAll(devices.Select((d, i) => Task.Run(async () =>
            {
                try
                {
                    var device = await SimulatedDevice.ConnectAsync(servers[i % servers.Count], d.DeviceId, null, cancellationToken);
                    device.Start(step => swarm?.StepStats(step));
                    return (Device: device, At: Stopwatch.GetElapsedTime(started), Ok: device.Status == "reconnected" && device.RoomId == roomId);
                }
                catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or HttpRequestException)
                {
                    return (Device: (SimulatedDevice?)null, At: Stopwatch.GetElapsedTime(started), Ok: false);
                }
            }, cancellationToken)));
            devices = [.. back.Where(b => b.Device is not null).Select(b => b.Device!)];
            var latencies = back.Where(b => b.Ok).Select(b => b.Device!.IdentifyLatency.TotalMilliseconds).Order().ToArray();
            var allBack = back.Max(b => b.At).TotalSeconds;
            var stormCpu = Terminal.ServerCpu(settings.ServerPid) - cpuBefore;
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // the storm's last presence windows
            storm = new StormResult(
                allBack, Math.Round(back.Length / allBack), Math.Round(Terminal.Percentile(latencies, 0.5), 1), Math.Round(Terminal.Percentile(latencies, 0.99), 1), back.Count(b => !b.Ok),
                LoadStatsHub.PresenceFrames - presenceBefore.Item1, LoadStatsHub.PresenceBytes - presenceBefore.Item2,
                stormCpu is { } cpu ? Math.Round(cpu.TotalSeconds, 2) : null);
            if (!settings.Json)
            {
                AnsiConsole.MarkupLine($"[grey]storm: all {back.Length:N0} back in {allBack:0.00} s[/]");
            }
        }

        // Broadcast: the fan-out to thousands, measured end to end.
        StepResult? broadcast = null;
        if (settings.Rate > 0)
        {
            swarm = Swarm.Of(devices);
            Action<StepStats, TimeSpan>? live = settings.Json ? null : (stats, elapsed) => AnsiConsole.MarkupLine(
                $"[grey]broadcast {elapsed.TotalSeconds,5:0.0}s[/] sent {stats.Sent,6:N0} delivered {stats.Delivered,10:N0}/{stats.Expected,-10:N0} p99 {stats.PercentileMs(99),6:0.0} ms");
            var stats = await swarm.RunStepAsync(1, settings.Rate, TimeSpan.FromSeconds(settings.Duration), 0, 0, TimeSpan.FromSeconds(10), live, cancellationToken);
            broadcast = StepResult.From(stats, settings.Duration, settings.P99TargetMs);
        }

        await Task.WhenAll(devices.Select(d => d.DisposeAsync().AsTask()));
        Report(settings, built.Elapsed, buildPresence, perConnection, query, storm, broadcast);
        var ok = query.TotalClients == settings.Devices + 1 && (storm is null || storm.Failed == 0) && (broadcast is null || broadcast.Held) && LoadStatsHub.Disconnects == 0;
        return ok ? 0 : 1;
    }

    private static void Report(BigRoomSettings settings, TimeSpan build, (long Frames, long Bytes) buildPresence, double? perConnection, QueryResult query, StormResult? storm, StepResult? broadcast)
    {
        if (settings.Json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                settings.Url,
                devices = settings.Devices,
                build_seconds = Math.Round(build.TotalSeconds, 2),
                joins_per_second = Math.Round(settings.Devices / build.TotalSeconds),
                build_presence_frames = buildPresence.Frames,
                build_presence_bytes = buildPresence.Bytes,
                server_bytes_per_connection = perConnection is null ? (double?)null : Math.Round(perConnection.Value),
                query_room_ms = query.Milliseconds,
                query_room_frame_bytes = query.FrameBytes,
                query_room_total_clients = query.TotalClients,
                query_room_listed_clients = query.ListedClients,
                storm,
                broadcast,
                total_sent = LoadStatsHub.TotalSent,
                closed_by_server = LoadStatsHub.Disconnects,
                errors = LoadStatsHub.Errors,
                first_errors = LoadStatsHub.FirstErrors,
            }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            return;
        }

        var table = new Table().Title($"one room x {settings.Devices:N0} devices").AddColumns("phase", "result");
        table.AddRow("build (sequential joins)", $"{build.TotalSeconds:0.0} s, {settings.Devices / build.TotalSeconds:N0} joins/s, {buildPresence.Frames:N0} presence frames ({buildPresence.Bytes / 1024.0 / 1024.0:0.0} MiB)");
        table.AddRow("server memory", perConnection is null ? "(give --server-pid)" : $"{perConnection / 1024:0.0} KiB per connection");
        table.AddRow("query_room", $"{query.Milliseconds:0.0} ms, {query.FrameBytes:N0} bytes, total_clients {query.TotalClients:N0}, listed {query.ListedClients:N0}");
        if (storm is not null)
        {
            table.AddRow("reconnect storm", $"all back in {storm.AllBackSeconds:0.00} s, {storm.IdentifiesPerSecond:N0} identifies/s, p50 {storm.IdentifyP50Ms:0} ms, p99 {storm.IdentifyP99Ms:0} ms, failed {storm.Failed}, {storm.PresenceFrames:N0} presence frames ({storm.PresenceBytes / 1024.0 / 1024.0:0} MiB), server CPU {storm.ServerCpuSeconds:0.00} s");
        }

        if (broadcast is not null)
        {
            table.AddRow("broadcast", $"{broadcast.Sent:N0} sent, {broadcast.Delivered:N0}/{broadcast.ExpectedDeliveries:N0} delivered ({broadcast.DeliveriesPerSecond:N0}/s), lost {broadcast.Lost}, p50 {broadcast.P50Ms:0.0} ms, p99 {broadcast.P99Ms:0.0} ms, max {broadcast.MaxMs:0.0} ms");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"total sent (warm-up included): {LoadStatsHub.TotalSent}, closed by server: {LoadStatsHub.Disconnects}, error frames: {LoadStatsHub.Errors}");
        foreach (var error in LoadStatsHub.FirstErrors)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]  {error}[/]");
        }
    }

    /// <summary>A device of its own joins the room and asks who is there; presence frames on the way are skipped.</summary>
    private static async Task<QueryResult> QueryAsync(Uri server, string deviceId, string roomId, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(server, cancellationToken);
        var buffer = new byte[4 * 1024 * 1024];
        await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);
        await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"device_id":"{{deviceId}}","identity":"asker","room_id":"{{roomId}}"}"""), WebSocketMessageType.Text, true, cancellationToken);
        await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);
        var asked = Stopwatch.GetTimestamp();
        await socket.SendAsync("""{"type":"query_room"}"""u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
        while (true)
        {
            var length = await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);
            using var frame = JsonDocument.Parse(buffer.AsMemory(0, length));
            if (frame.RootElement.GetProperty("type").GetString() == "room_info")
            {
                var ms = Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
                var result = new QueryResult(Math.Round(ms, 1), length, frame.RootElement.GetProperty("total_clients").GetInt32(), frame.RootElement.GetProperty("clients").GetArrayLength());
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
                return result;
            }
        }
    }


    private sealed record QueryResult(double Milliseconds, int FrameBytes, int TotalClients, int ListedClients);

    /// <param name="ServerCpuSeconds">The server's CPU time until the last device was back (with --server-pid).</param>
    private sealed record StormResult(double AllBackSeconds, double IdentifiesPerSecond, double IdentifyP50Ms, double IdentifyP99Ms, int Failed, long PresenceFrames, long PresenceBytes, double? ServerCpuSeconds);
}

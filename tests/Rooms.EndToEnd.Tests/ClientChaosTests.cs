using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Client;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The client libraries keep the guarantees through failures: three devices per library, in one room spread over two
/// node processes (MariaDB + Redis of their own), send for 30 s while node A is SIGKILLed and restarted, Redis is
/// killed and restarted, and MariaDB is frozen for 3 s. Afterwards every message sent is acked and stored exactly
/// once, and every device delivered every other device's messages exactly once, in order.
/// </summary>
public sealed class ClientChaosTests(PrivateMariaDb mariaDb) : IClassFixture<PrivateMariaDb>, IDisposable
{
    private const int Seconds = 30;
    private readonly TestDatabase _database = TestDatabase.OnServer(mariaDb.Server);
    private readonly RedisServer _redis = RedisServer.Start();
    private readonly string _keyPrefix = "rooms-chaos-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _workDir = Directory.CreateTempSubdirectory("rooms-chaos-").FullName;
    private readonly List<HostProcess> _processes = [];
    private readonly int[] _ports = [MariaDbServer.FreePort(), MariaDbServer.FreePort()];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        mariaDb.Server.EnsureRunning();
        _redis.Dispose();
        _database.Dispose();
        Directory.Delete(_workDir, recursive: true);
    }

    [Fact]
    public Task JavaScript_ThroughANodeKillARedisKillAndADatabaseFreeze_ExactlyOnceInOrder() =>
        ChaosAsync(urls => RunProgramAsync("/usr/bin/node", ["--experimental-websocket", Path.Combine(RepositoryRoot.Path, "clients", "js", "integration", "chaos.mjs")], urls));

    [Fact]
    public Task Python_ThroughANodeKillARedisKillAndADatabaseFreeze_ExactlyOnceInOrder() =>
        ChaosAsync(urls => RunProgramAsync("/usr/bin/python3", [Path.Combine(RepositoryRoot.Path, "clients", "python", "integration", "chaos.py")], urls));

    [Fact]
    public Task DotNet_ThroughANodeKillARedisKillAndADatabaseFreeze_ExactlyOnceInOrder() => ChaosAsync(DotNetChaosAsync);

    /// <summary>Starts the two nodes, runs the clients while the faults happen on schedule, then checks what they report and what is stored.</summary>
    private async Task ChaosAsync(Func<string[], Task<List<DeviceReport>>> clients)
    {
        await StartNodeAsync(0);
        await StartNodeAsync(1);
        string[] urls = [$"ws://127.0.0.1:{_ports[0]}/", $"ws://127.0.0.1:{_ports[1]}/"];
        var started = Stopwatch.StartNew();
        var running = clients(urls);
        var faults = FaultsAsync(started);

        var reports = await running;
        await faults;

        Assert.Equal(3, reports.Count);
        Assert.All(reports, r => Assert.Empty(r.Failed));
        var sent = reports.ToDictionary(r => r.Device, r => r.Acked.OrderBy(Number).ToList());
        Assert.All(sent.Values, s => Assert.True(s.Count >= Seconds, $"only {s.Count} messages acked"));

        // Stored exactly once: one row per message sent, nothing else in the room.
        await using (var db = _database.OpenContext())
        {
            var room = reports[0].Room;
            var stored = await db.Messages.Where(m => m.RoomId == room).Select(m => m.MessageContent).ToListAsync();
            Assert.Equal(sent.Values.SelectMany(s => s).Order(), stored.Order());
        }

        // Delivered exactly once, in order: each device got every other device's messages, as sent.
        foreach (var report in reports)
        {
            Assert.Equal(report.Delivered.Count, report.Delivered.Distinct().Count());
            foreach (var (device, messages) in sent.Where(s => s.Key != report.Device))
            {
                var fromIt = report.Delivered.Where(d => d.StartsWith(device + "|", StringComparison.Ordinal)).Select(d => d[(device.Length + 1)..]).ToList();
                Assert.Equal(messages, fromIt);
            }
        }
    }

    /// <summary>Node A killed at 6 s and started again; Redis killed at 14 s, back at 17 s; MariaDB frozen 21-24 s.</summary>
    private async Task FaultsAsync(Stopwatch started)
    {
        await At(started, 6);
        _processes[0].Process.Kill(entireProcessTree: true);
        await At(started, 8);
        await StartNodeAsync(0);
        await At(started, 14);
        _redis.Kill();
        await At(started, 17);
        _redis.Restart();
        await At(started, 21);
        mariaDb.Server.Pause();
        await At(started, 24);
        mariaDb.Server.Resume();
    }

    private static async Task At(Stopwatch started, int second)
    {
        var wait = TimeSpan.FromSeconds(second) - started.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    private async Task StartNodeAsync(int index)
    {
        var process = HostProcess.Start(_workDir, [], new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_ports[index]}",
            ["Database__Provider"] = "MySql",
            ["ConnectionStrings__Rooms"] = _database.ConnectionString,
            ["Database__MySqlServerVersion"] = _database.Settings.MySqlServerVersion,
            ["Cluster__Redis"] = _redis.Configuration + ",connectTimeout=2000",
            ["Cluster__KeyPrefix"] = _keyPrefix,
            ["Cluster__NodeId"] = index == 0 ? "chaos-a" : "chaos-b",
            ["Cluster__HeartbeatInterval"] = "00:00:00.500",
            ["Cluster__NodeTimeout"] = "00:00:03",
            ["Cluster__PresenceTtl"] = "00:00:03",
            ["Cluster__PresenceRefreshInterval"] = "00:00:00.500",
            ["Rooms__IdentifiesPerMinutePerDevice"] = "1000",
        });
        _processes.Add(process);
        await process.WaitForHealthAsync(_ports[index]);
    }

    private static async Task<List<DeviceReport>> RunProgramAsync(string program, string[] args, string[] urls)
    {
        var run = await ExternalProgram.RunAsync(program, args, TimeSpan.FromMinutes(3), new Dictionary<string, string>
        {
            ["ROOMS_URLS"] = string.Join(",", urls),
            ["SECONDS"] = Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Assert.True(run.ExitCode == 0, run.All);
        return [.. run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{'))
            .Select(l => JsonSerializer.Deserialize<DeviceReport>(l, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!)];
    }

    /// <summary>The same run with the .NET library, in this process.</summary>
    private static async Task<List<DeviceReport>> DotNetChaosAsync(string[] urls)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        var devices = new List<(RoomsClient Client, DeviceReport Report, Task Reading)>();
        string? roomId = null;
        for (var i = 0; i < 3; i++)
        {
            var device = $"net-chaos-{run}-{i}";
            var client = new RoomsClient(new RoomsClientOptions
            {
                Urls = [.. urls.Skip(i % urls.Length).Concat(urls.Take(i % urls.Length)).Select(u => new Uri(u))],
                DeviceId = device,
                Identity = "chaos",
                RoomId = roomId,
                InitialDelay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(2),
            });
            roomId = (await client.ConnectAsync()).RoomId;
            var report = new DeviceReport(device, roomId, [], [], []);
            var reading = Task.Run(async () =>
            {
                await foreach (var e in client.Events())
                {
                    if (e is RoomMessage m)
                    {
                        lock (report.Delivered)
                        {
                            report.Delivered.Add($"{m.From}|{m.Content}");
                        }
                    }
                }
            });
            devices.Add((client, report, reading));
        }

        var until = DateTime.UtcNow.AddSeconds(Seconds);
        await Task.WhenAll(devices.Select(async d =>
        {
            var sends = new List<Task>();
            for (var n = 1; DateTime.UtcNow < until; n++)
            {
                var content = $"{d.Report.Device}#{n}";
                sends.Add(Send(d.Client, d.Report, content));
                await Task.Delay(100);
            }

            await Task.WhenAll(sends);
        }));

        var total = devices.Sum(d => d.Report.Acked.Count);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && devices.Any(d => Count(d.Report) < total - d.Report.Acked.Count))
        {
            await Task.Delay(200);
        }

        foreach (var (client, _, reading) in devices)
        {
            await client.DisposeAsync();
            await reading;
        }

        return [.. devices.Select(d => d.Report)];

        static async Task Send(RoomsClient client, DeviceReport report, string content)
        {
            try
            {
                await client.SendAsync(content);
                lock (report.Acked)
                {
                    report.Acked.Add(content);
                }
            }
            catch (RoomsException ex)
            {
                lock (report.Failed)
                {
                    report.Failed.Add($"{content}: {ex.Message}");
                }
            }
        }

        static int Count(DeviceReport report)
        {
            lock (report.Delivered)
            {
                return report.Delivered.Count;
            }
        }
    }

    private static int Number(string content) => int.Parse(content[(content.LastIndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private sealed record DeviceReport(string Device, string Room, List<string> Acked, List<string> Failed, List<string> Delivered);
}

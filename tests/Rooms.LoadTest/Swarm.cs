using System.Diagnostics;

namespace Rooms.LoadTest;

/// <summary>R rooms of K devices, connected and identified, and the open-loop schedule that drives them.</summary>
internal sealed class Swarm : IAsyncDisposable
{
    private readonly List<List<SimulatedDevice>> _rooms;
    private readonly SimulatedDevice[] _devices;
    private readonly StepStats?[] _steps = new StepStats?[1024];

    private Swarm(List<List<SimulatedDevice>> rooms)
    {
        _rooms = rooms;
        _devices = [.. rooms.SelectMany(r => r)];
    }

    public int DeviceCount => _devices.Length;

    public IEnumerable<(string DeviceId, string RoomId)> Members => _devices.Select(d => (d.DeviceId, d.RoomId));

    /// <summary>Connects room by room: the first device creates the room, the others join it by id.</summary>
    /// <summary>Device d of every room connects to <c>servers[d % servers.Count]</c>, so each room spans all of them.</summary>
    /// <param name="source">The client address of device n of room r (null: the default).</param>
    public static async Task<Swarm> ConnectAsync(IReadOnlyList<Uri> servers, int rooms, int devicesPerRoom, Action<int>? progress, CancellationToken cancellationToken,
        Func<int, System.Net.IPAddress?>? source = null)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        var connected = 0;
        var result = new List<SimulatedDevice>[rooms];
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, rooms).Select(async r =>
        {
            var members = new List<SimulatedDevice>(devicesPerRoom);
            SimulatedDevice first;
            await gate.WaitAsync(cancellationToken);
            try
            {
                first = await SimulatedDevice.ConnectAsync(servers[0], $"lt{run}-r{r}-d0", null, cancellationToken, source?.Invoke(r * devicesPerRoom));
            }
            finally
            {
                gate.Release();
            }

            members.Add(first);
            progress?.Invoke(Interlocked.Increment(ref connected));
            var others = await Task.WhenAll(Enumerable.Range(1, devicesPerRoom - 1).Select(async d =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    var device = await SimulatedDevice.ConnectAsync(servers[d % servers.Count], $"lt{run}-r{r}-d{d}", first.RoomId, cancellationToken, source?.Invoke((r * devicesPerRoom) + d));
                    progress?.Invoke(Interlocked.Increment(ref connected));
                    return device;
                }
                finally
                {
                    gate.Release();
                }
            }));
            members.AddRange(others);
            result[r] = members;
        }));

        var swarm = new Swarm([.. result]);
        foreach (var device in swarm._devices)
        {
            device.Start(swarm.StepStats);
        }

        return swarm;
    }

    /// <summary>A swarm of devices already connected, whose readers count into <see cref="StepStats"/> (started by the caller).</summary>
    public static Swarm Of(List<SimulatedDevice> room) => new([room]);

    /// <summary>The stats of a step, where devices count their deliveries.</summary>
    public StepStats? StepStats(int step) => step >= 0 && step < _steps.Length ? _steps[step] : null;

    /// <summary>
    /// Sends <paramref name="rate"/> messages per second for <paramref name="duration"/>, on schedule whatever the
    /// server does (open loop), round-robin over the devices; then waits for the deliveries to drain.
    /// </summary>
    public async Task<StepStats> RunStepAsync(int step, double rate, TimeSpan duration, double directRatio, int padding,
        TimeSpan drain, Action<StepStats, TimeSpan>? progress, CancellationToken cancellationToken)
    {
        var stats = new StepStats(step, rate);
        _steps[step] = stats;
        var random = new Random(step);
        var total = (long)(rate * duration.TotalSeconds);
        var start = Stopwatch.GetTimestamp();
        var ticksPerMessage = Stopwatch.Frequency / rate;
        var lastProgress = start;
        long sent = 0;
        while (sent < total && !cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            var due = Math.Min(total, (long)((now - start) / ticksPerMessage) + 1);
            for (; sent < due; sent++)
            {
                var device = _devices[sent % _devices.Length];
                var room = _rooms[(int)(sent % _devices.Length) / _rooms[0].Count];
                var intended = start + (long)(sent * ticksPerMessage);
                if (room.Count > 1 && random.NextDouble() < directRatio)
                {
                    var target = room[random.Next(room.Count)];
                    if (target == device)
                    {
                        target = room[(room.IndexOf(device) + 1) % room.Count];
                    }

                    stats.RecordSend(1);
                    device.Enqueue(new Outgoing(step, intended, target.DeviceId, padding));
                }
                else
                {
                    stats.RecordSend(room.Count - 1);
                    device.Enqueue(new Outgoing(step, intended, null, padding));
                }
            }

            if (progress is not null && Stopwatch.GetElapsedTime(lastProgress).TotalMilliseconds >= 500)
            {
                lastProgress = Stopwatch.GetTimestamp();
                progress(stats, Stopwatch.GetElapsedTime(start));
            }

            await Task.Delay(1, CancellationToken.None);
        }

        var drainUntil = Stopwatch.GetTimestamp() + (long)(drain.TotalSeconds * Stopwatch.Frequency);
        while (stats.Delivered < stats.Expected && Stopwatch.GetTimestamp() < drainUntil)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        progress?.Invoke(stats, Stopwatch.GetElapsedTime(start));
        return stats;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_devices.Select(d => d.DisposeAsync().AsTask()));
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using HdrHistogram;

namespace Rooms.LoadTest;

/// <summary>What one measured step saw: every delivery's end-to-end latency from its intended send time.</summary>
internal sealed class StepStats(int step, double targetRate)
{
    private readonly LongConcurrentHistogram _latency = new(1, TimeStamp.Seconds(60), 3);
    private long _sent;
    private long _expected;
    private long _delivered;

    public int Step { get; } = step;

    public double TargetRate { get; } = targetRate;

    public long Sent => Interlocked.Read(ref _sent);

    public long Expected => Interlocked.Read(ref _expected);

    public long Delivered => Interlocked.Read(ref _delivered);

    public void RecordSend(int expectedDeliveries)
    {
        LoadStatsHub.RecordSend();
        Interlocked.Increment(ref _sent);
        Interlocked.Add(ref _expected, expectedDeliveries);
    }

    public void RecordDelivery(long elapsedTicks)
    {
        _latency.RecordValue(Math.Max(1, elapsedTicks));
        Interlocked.Increment(ref _delivered);
    }

    public double PercentileMs(double percentile) =>
        Delivered == 0 ? 0 : _latency.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;

    public double MaxMs => Delivered == 0 ? 0 : _latency.GetMaxValue() * 1000.0 / Stopwatch.Frequency;
}

/// <summary>Counters that are not per step: error frames and server-side closes.</summary>
internal static class LoadStatsHub
{
    private static long _errors;
    private static long _totalSent;
    private static long _disconnects;

    public static ConcurrentQueue<string> FirstErrors { get; } = new();

    public static long Errors => Interlocked.Read(ref _errors);

    /// <summary>Every message sent, warm-up included: what the server's messages table should hold afterwards.</summary>
    public static long TotalSent => Interlocked.Read(ref _totalSent);

    public static void RecordSend() => Interlocked.Increment(ref _totalSent);

    public static long Disconnects => Interlocked.Read(ref _disconnects);

    private static long _presenceFrames;
    private static long _presenceBytes;

    /// <summary>Presence frames received by every device (what presence costs the room).</summary>
    public static long PresenceFrames => Interlocked.Read(ref _presenceFrames);

    public static long PresenceBytes => Interlocked.Read(ref _presenceBytes);

    public static void RecordPresence(long bytes)
    {
        Interlocked.Increment(ref _presenceFrames);
        Interlocked.Add(ref _presenceBytes, bytes);
    }

    public static void RecordError(string frame)
    {
        if (Interlocked.Increment(ref _errors) <= 5)
        {
            FirstErrors.Enqueue(frame);
        }
    }

    public static void RecordDisconnect(string deviceId, WebSocketCloseStatus? status)
    {
        if (status != WebSocketCloseStatus.NormalClosure)
        {
            Interlocked.Increment(ref _disconnects);
            if (Interlocked.Read(ref _disconnects) <= 5)
            {
                FirstErrors.Enqueue($"{deviceId} closed by server: {status}");
            }
        }
    }
}

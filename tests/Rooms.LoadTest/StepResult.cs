namespace Rooms.LoadTest;

/// <summary>One measured step, as printed and as written with --json.</summary>
internal sealed record StepResult(
    double TargetRate,
    double DurationSeconds,
    long Sent,
    long ExpectedDeliveries,
    long Delivered,
    long Lost,
    double SentPerSecond,
    double DeliveriesPerSecond,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    bool Held,
    double? ServerCpuMicrosPerMessage = null)
{
    /// <param name="serverCpu">The server's CPU time during the step (sending and draining), when its process id was given.</param>
    public static StepResult From(StepStats stats, double durationSeconds, double p99TargetMs, TimeSpan? serverCpu = null)
    {
        var lost = Math.Max(0, stats.Expected - stats.Delivered);
        var p99 = stats.PercentileMs(99);
        return new StepResult(
            stats.TargetRate,
            durationSeconds,
            stats.Sent,
            stats.Expected,
            stats.Delivered,
            lost,
            stats.Sent / durationSeconds,
            stats.Delivered / durationSeconds,
            Math.Round(stats.PercentileMs(50), 2),
            Math.Round(stats.PercentileMs(90), 2),
            Math.Round(p99, 2),
            Math.Round(stats.MaxMs, 2),
            lost == 0 && stats.Delivered > 0 && p99 <= p99TargetMs,
            serverCpu is { } cpu && stats.Sent > 0 ? Math.Round(cpu.TotalMicroseconds / stats.Sent, 1) : null);
    }
}

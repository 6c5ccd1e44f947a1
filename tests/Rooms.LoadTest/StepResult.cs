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
    bool Held)
{
    public static StepResult From(StepStats stats, double durationSeconds, double p99TargetMs)
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
            lost == 0 && stats.Delivered > 0 && p99 <= p99TargetMs);
    }
}

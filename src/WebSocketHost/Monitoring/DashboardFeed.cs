using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Rooms.Application.Common;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// What the dashboard shows beyond the metrics' own export: messages stored since start and the recent commit time,
/// read from the <see cref="RoomsMetrics"/> instruments as they are recorded (a <see cref="MeterListener"/>), and the
/// latest error frames with their text and who caused them (not a metric: texts and sessions are unbounded).
/// </summary>
internal sealed class DashboardFeed : IDisposable
{
    /// <summary>Longer error texts (a client's 64 KB of junk echoed back) are cut for the dashboard.</summary>
    public const int RecentErrorMaxLength = 200;

    private const int RecentErrorsKept = 20;

    private readonly RoomsMetrics _metrics;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<RecentError> _recentErrors = new();
    private long _messagesStored;
    private double _recentCommitMilliseconds;

    public DashboardFeed(RoomsMetrics metrics)
    {
        _metrics = metrics;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == metrics.Meter && instrument.Name is RoomsMetrics.MessagesStoredName or RoomsMetrics.CommitDurationName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, stored, _, _) => Interlocked.Add(ref _messagesStored, stored));
        _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
        {
            // An exponential average over roughly the last 20 batches; one writer records them.
            var milliseconds = seconds * 1000;
            var previous = Volatile.Read(ref _recentCommitMilliseconds);
            Volatile.Write(ref _recentCommitMilliseconds, previous == 0 ? milliseconds : (previous * 0.95) + (milliseconds * 0.05));
        });
        _listener.Start();
    }

    /// <summary>Messages committed since start (for the dashboard's rate chart).</summary>
    public long MessagesStored => Interlocked.Read(ref _messagesStored);

    /// <summary>Average commit time of the recent batches, in milliseconds.</summary>
    public double RecentCommitMilliseconds => Volatile.Read(ref _recentCommitMilliseconds);

    /// <summary>The latest error frames sent, newest last.</summary>
    public IReadOnlyList<RecentError> RecentErrors => [.. _recentErrors];

    /// <summary>An error frame sent to a client: counted (<c>rooms_errors{kind}</c>) and kept for the dashboard.</summary>
    /// <param name="source">Who caused it: the session, its address and device.</param>
    public void Error(string kind, string message, string source)
    {
        _metrics.Error(kind);
        var text = message.Length > RecentErrorMaxLength ? string.Concat(message.AsSpan(0, RecentErrorMaxLength), "…") : message;
        _recentErrors.Enqueue(new RecentError(DateTime.UtcNow, kind, text, source));
        while (_recentErrors.Count > RecentErrorsKept && _recentErrors.TryDequeue(out _))
        {
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>An error frame the server sent, for the dashboard.</summary>
internal sealed record RecentError(DateTime At, string Kind, string Message, string Source);

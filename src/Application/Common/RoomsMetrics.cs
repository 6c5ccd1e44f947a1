using System.Diagnostics.Metrics;

namespace Rooms.Application.Common;

/// <summary>
/// Rooms' instruments on one <see cref="Meter"/> (named <c>Rooms</c>, so they are exported as <c>rooms_...</c>) from <see cref="IMeterFactory"/>, in the style of ASP.NET
/// Core's own connection metrics: created once, recorded through one small method each; instruments only (the
/// dashboard's figures are read from them by the host). Exported at
/// <c>GET /metrics</c> with Kestrel's and the runtime's (README, "Metrics"). The host adds the gauges it
/// owns (open connections, rooms, send-queue drops, cluster counts) on <see cref="Meter"/>.
/// </summary>
public sealed class RoomsMetrics
{
    public const string MeterName = "Rooms";

    public const string BatchSizeName = "store.batch_size";

    public const string CommitDurationName = "store.commit_duration";

    /// <summary>Bucket bounds of the two histograms, for exporters that do not read instrument advice.</summary>
    public static readonly int[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];

    public static readonly double[] CommitDurationBuckets = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

    private readonly Counter<long> _identifies;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _messagesStored;
    private readonly Counter<long> _messagesForwarded;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _storageFailures;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitDuration;

    public RoomsMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName);
        _identifies = Meter.CreateCounter<long>("identifies", "{identify}", "Identifies answered, by status (created_new, joined_existing, reconnected, room_not_found, refused, limited)");
        _messagesReceived = Meter.CreateCounter<long>("messages.received", "{message}", "Messages sent by devices to this node, by type");
        _messagesStored = Meter.CreateCounter<long>(MessagesStoredName, "{message}", "Messages committed to the database, by type");
        _messagesForwarded = Meter.CreateCounter<long>("messages.forwarded", "{delivery}", "Messages handed to this node's connections, by type");
        _errors = Meter.CreateCounter<long>("errors", "{error}", "Error frames sent to clients, by kind");
        _storageFailures = Meter.CreateCounter<long>("storage_failures", "{request}", "Requests answered \"storage unavailable, try again\", by operation");
        _batchSize = Meter.CreateHistogram<int>(BatchSizeName, "{message}", "Messages per group-commit transaction",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchSizeBuckets });
        _commitDuration = Meter.CreateHistogram<double>(CommitDurationName, "s", "Time to commit one batch of messages",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitDurationBuckets });
    }

    public Meter Meter { get; }

    public void StorageFailed(string operation) => _storageFailures.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Identify(string status) => _identifies.Add(1, new KeyValuePair<string, object?>("status", status));

    public void MessageReceived(string type) => _messagesReceived.Add(1, new KeyValuePair<string, object?>("type", type));

    public const string MessagesStoredName = "messages.stored";

    public void MessageStored(string type) => _messagesStored.Add(1, new KeyValuePair<string, object?>("type", type));

    public void MessageForwarded(string type, int deliveries) => _messagesForwarded.Add(deliveries, new KeyValuePair<string, object?>("type", type));

    /// <param name="kind">invalid_frame, rejected, rate_limited or too_big.</param>
    public void Error(string kind) => _errors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void BatchCommitted(int messages, TimeSpan duration)
    {
        _batchSize.Record(messages);
        _commitDuration.Record(duration.TotalSeconds);
    }
}

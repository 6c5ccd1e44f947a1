using System.Diagnostics.Metrics;
using Prometheus;
using Rooms.Application.Common;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// The Prometheus side of the metrics, with prometheus-net (stable; OpenTelemetry's Prometheus exporter is
/// only in beta): a registry of this host's own that listens to the meters of this host's
/// <see cref="IMeterFactory"/> (Rooms, Kestrel, ASP.NET Core) and the process-wide runtime meters, so two
/// hosts in one process (the tests) never mix their numbers.
/// </summary>
internal sealed class PrometheusExport : IDisposable
{
    private readonly IDisposable _adapter;

    public PrometheusExport(IMeterFactory meterFactory)
    {
        Registry = Metrics.NewCustomRegistry();
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, meterFactory),
            ResolveHistogramBuckets = Buckets,
        });
    }

    public CollectorRegistry Registry { get; }

    public void Dispose() => _adapter.Dispose();

    /// <summary>prometheus-net ignores the instruments' bucket advice: Rooms' two histograms get theirs here.</summary>
    private static double[] Buckets(Instrument instrument) => (instrument.Meter.Name, instrument.Name) switch
    {
        (RoomsMetrics.MeterName, RoomsMetrics.BatchSizeName) => [.. RoomsMetrics.BatchSizeBuckets.Select(b => (double)b)],
        (RoomsMetrics.MeterName, RoomsMetrics.CommitDurationName) => RoomsMetrics.CommitDurationBuckets,
        _ => Histogram.ExponentialBuckets(0.001, 2, 16),
    };
}

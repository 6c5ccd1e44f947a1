using System.Text.Json;
using System.Text.Json.Serialization;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// The dashboard's figures for this node, with its message rate over the last <see cref="RatesKept"/> samples (one
/// every <see cref="PostInterval"/>), so the dashboard's chart has data the moment it opens. On a cluster, posted every
/// <see cref="PostInterval"/> through <see cref="IClusterStatus"/>, so every node's dashboard shows every node.
/// </summary>
internal sealed class NodeStats(NodeIdentity node, DashboardFeed dashboard, ConnectionRegistry registry, IRoomHub hub, IClusterStatus cluster)
    : BackgroundService
{
    public static readonly TimeSpan PostInterval = TimeSpan.FromSeconds(2);

    /// <summary>Two minutes of samples.</summary>
    public const int RatesKept = 60;

    private readonly Queue<RateSample> _rates = new();
    private (DateTime At, long Stored)? _previous;

    public sealed record Figures(
        [property: JsonPropertyName("node_id")] string NodeId,
        [property: JsonPropertyName("at")] DateTime At,
        [property: JsonPropertyName("connections")] int Connections,
        [property: JsonPropertyName("rooms_on_node")] int RoomsOnNode,
        [property: JsonPropertyName("messages_stored")] long MessagesStored,
        [property: JsonPropertyName("commit_ms")] double CommitMs,
        [property: JsonPropertyName("slow_consumer_drops")] long SlowConsumerDrops,
        [property: JsonPropertyName("recent_errors")] IReadOnlyList<ErrorLine> RecentErrors,
        [property: JsonPropertyName("rates")] IReadOnlyList<RateSample> Rates);

    /// <param name="Source">Who caused it: session, address, device.</param>
    public sealed record ErrorLine(
        [property: JsonPropertyName("at")] DateTime At,
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("node_id")] string NodeId,
        [property: JsonPropertyName("source")] string Source);

    /// <summary>Messages stored per second by this node in the interval ending at <paramref name="At"/>.</summary>
    public sealed record RateSample(
        [property: JsonPropertyName("at")] DateTime At,
        [property: JsonPropertyName("per_second")] double PerSecond);

    public Figures Snapshot()
    {
        RateSample[] rates;
        lock (_rates)
        {
            rates = [.. _rates];
        }

        return new(node.NodeId.Value, DateTime.UtcNow, registry.Count, hub.Rooms().Count,
            dashboard.MessagesStored, Math.Round(dashboard.RecentCommitMilliseconds, 2), registry.SlowConsumersDisconnected,
            [.. dashboard.RecentErrors.Select(e => new ErrorLine(e.At, e.Kind, e.Message, node.NodeId.Value, e.Source))], rates);
    }

    /// <summary>Records the rate since the previous sample.</summary>
    internal void Sample(DateTime now)
    {
        var stored = dashboard.MessagesStored;
        lock (_rates)
        {
            if (_previous is { } previous && now > previous.At)
            {
                _rates.Enqueue(new RateSample(now, Math.Round((stored - previous.Stored) / (now - previous.At).TotalSeconds, 2)));
                while (_rates.Count > RatesKept)
                {
                    _rates.Dequeue();
                }
            }

            _previous = (now, stored);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PostInterval);
        do
        {
            Sample(DateTime.UtcNow);
            await cluster.PostNodeStatsAsync(node.NodeId, JsonSerializer.Serialize(Snapshot()));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

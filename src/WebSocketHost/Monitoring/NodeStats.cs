using System.Text.Json;
using System.Text.Json.Serialization;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Cluster;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// The dashboard's figures for this node; on a cluster, posted every <see cref="PostInterval"/> to the
/// <see cref="ClusterStatsBoard"/>, so every node's dashboard shows every node.
/// </summary>
internal sealed class NodeStats(NodeIdentity node, RoomsMetrics metrics, ConnectionRegistry registry, IPresence presence, IServiceProvider services)
    : BackgroundService
{
    public static readonly TimeSpan PostInterval = TimeSpan.FromSeconds(2);

    public sealed record Figures(
        [property: JsonPropertyName("node_id")] string NodeId,
        [property: JsonPropertyName("at")] DateTime At,
        [property: JsonPropertyName("connections")] int Connections,
        [property: JsonPropertyName("rooms_on_node")] int RoomsOnNode,
        [property: JsonPropertyName("messages_stored")] long MessagesStored,
        [property: JsonPropertyName("commit_ms")] double CommitMs,
        [property: JsonPropertyName("slow_consumer_drops")] long SlowConsumerDrops,
        [property: JsonPropertyName("recent_errors")] IReadOnlyList<ErrorLine> RecentErrors);

    public sealed record ErrorLine(
        [property: JsonPropertyName("at")] DateTime At,
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("message")] string Message,
        [property: JsonPropertyName("node_id")] string NodeId);

    public Figures Snapshot() => new(node.NodeId, DateTime.UtcNow, registry.Count, presence.LocalRooms().Count,
        metrics.MessagesStoredTotal, Math.Round(metrics.RecentCommitMilliseconds, 2), registry.SlowConsumersDisconnected,
        [.. metrics.RecentErrors.Select(e => new ErrorLine(e.At, e.Kind, e.Message, node.NodeId))]);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<ClusterStatsBoard>() is not { } board)
        {
            return;
        }

        using var timer = new PeriodicTimer(PostInterval);
        do
        {
            await board.PostAsync(node.NodeId, JsonSerializer.Serialize(Snapshot()));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>The gauges of what the host holds, observed when /metrics is scraped (nothing is counted twice).</summary>
internal sealed class HostMetrics
{
    public HostMetrics(RoomsMetrics metrics, ConnectionRegistry registry, IRoomHub hub, IClusterStatus cluster, ReplyBudget replies)
    {
        var meter = metrics.Meter;
        meter.CreateObservableGauge("connections.open", () => registry.Count, "{connection}", "Open WebSocket connections on this node");
        meter.CreateObservableGauge("devices.identified", () => hub.Rooms().Sum(r => r.Value.Count), "{device}", "Identified devices on this node");
        meter.CreateObservableGauge("rooms.occupied", () => hub.Rooms().Count, "{room}", "Rooms with a device on this node");
        meter.CreateObservableGauge("send_queue.reply_bytes", () => replies.Queued, "By", "Bytes of big replies (history pages, room lists) waiting to be sent, bounded by Rooms:QueuedReplyBytes");
        meter.CreateObservableCounter("send_queue.replies_refused", () => replies.Refused, "{reply}", "Big replies refused (\"Server busy\") because Rooms:QueuedReplyBytes or an address's share was reached");
        meter.CreateObservableCounter("send_queue.drops", () => registry.SlowConsumersDisconnected, "{connection}", "Connections dropped because their send queue filled up");
        if (cluster.Figures() is not null)
        {
            meter.CreateObservableCounter("cluster.published", () => cluster.Figures()!.Published, "{envelope}", "Envelopes this node published to Redis");
            meter.CreateObservableCounter("cluster.received", () => cluster.Figures()!.Received, "{envelope}", "Envelopes this node received from other nodes");
            meter.CreateObservableCounter("cluster.redis_outages", () => cluster.Figures()!.Outages, "{outage}", "Times Redis became unreachable");
            meter.CreateObservableGauge("cluster.redis_up", () => cluster.Figures()!.RedisUp ? 1 : 0, "{state}", "1 while Redis is reachable; 0 while this node serves its own members only (readiness says Degraded)");
        }
    }
}

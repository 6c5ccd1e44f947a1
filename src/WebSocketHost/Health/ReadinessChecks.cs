using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Persistence;

namespace Rooms.WebSocketHost.Health;

/// <summary>
/// What <c>GET /health/ready</c> checks: the node finished starting, its database answers with the schema
/// up to date, its message writer runs, and on a cluster Redis delivers what the node publishes.
/// </summary>
public static class ReadinessChecks
{
    public const string Tag = "ready";

    /// <summary>A check that cannot answer within this is unhealthy: a stalled dependency is not a ready one.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public static IHealthChecksBuilder AddReadinessChecks(this IServiceCollection services) => services.AddHealthChecks()
        .AddCheck<StartedCheck>("started", tags: [Tag])
        .AddCheck<DatabaseCheck>("database", tags: [Tag], timeout: Timeout)
        .AddCheck<MessageWriterCheck>("message-writer", tags: [Tag])
        .AddCheck<ClusterCheck>("cluster", tags: [Tag], timeout: Timeout);

    internal sealed class StartedCheck(ReadinessGate gate) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(gate.IsOpen ? HealthCheckResult.Healthy("started") : HealthCheckResult.Unhealthy("starting: preparing the database"));
    }

    /// <summary>Reachable with the schema up to date, and writes working: a full disk answers reads but fails every write.</summary>
    internal sealed class DatabaseCheck(DatabaseMigrator migrator, DatabaseSettings settings, StorageOutageLog outage) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (outage.Outage is { } failing)
            {
                return HealthCheckResult.Unhealthy(
                    $"{settings.Describe()}: writes failing since {failing.Since:o} ({failing.Failed} operations failed; the last storage operation failed)");
            }

            try
            {
                var pending = await migrator.PendingMigrationsAsync(cancellationToken);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy($"{settings.Describe()}: reachable, schema up to date")
                    : HealthCheckResult.Unhealthy($"migrations pending: {string.Join(", ", pending)}");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"{settings.Describe()}: unreachable ({ex.GetBaseException().Message})");
            }
        }
    }

    internal sealed class MessageWriterCheck(IMessageStore store) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(store is GroupCommitMessageStore { WriterAlive: false }
                ? HealthCheckResult.Unhealthy("the message writer has stopped")
                : HealthCheckResult.Healthy("the message writer runs"));
    }

    internal sealed class ClusterCheck(IClusterStatus cluster) : IHealthCheck
    {
        // Degraded, not Unhealthy (readiness stays 200): without Redis a node still serves and stores for its own
        // members, and a load balancer that dropped every node at once would take the whole cluster down.
        // A node whose Redis never answered since it started is Unhealthy: that is a wrong Cluster:Redis, not an outage,
        // and a node that never joined would serve a split cluster of its own.
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            await cluster.ProbeAsync(Timeout) switch
            {
                null => HealthCheckResult.Healthy("single node"),
                true => HealthCheckResult.Healthy("Redis delivers this node's publications"),
                false when cluster.Figures() is { EverConnected: false } =>
                    HealthCheckResult.Unhealthy("Redis has not answered since this node started: check Cluster:Redis (a node that never reached Redis would split the cluster)"),
                false => HealthCheckResult.Degraded("Redis does not deliver (a probe published to this node's channel did not come back): this node serves its own members only"),
            };
    }
}

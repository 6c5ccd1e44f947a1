using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Rooms.WebSocketHost.Health;

/// <summary>
/// Logs when a readiness check changes state, instead of ASP.NET Core's line per probe (an Error for every
/// unhealthy probe, so a load balancer polling a starting node every second floods the log with errors that are
/// not). Not ready while starting is expected and logged at Debug; a check failing once the node served is a Warning,
/// and its recovery Information.
/// </summary>
internal sealed partial class ReadinessLog(ReadinessGate gate, ILogger<ReadinessLog> logger)
{
    /// <summary>The category whose per-probe lines this replaces (filtered out in <see cref="RoomsHost"/>'s Serilog pipeline).</summary>
    public const string HealthCheckServiceCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    private readonly ConcurrentDictionary<string, HealthStatus> _last = new(StringComparer.Ordinal);

    public void Observe(HealthReport report)
    {
        foreach (var (name, entry) in report.Entries)
        {
            var previous = _last.GetValueOrDefault(name, HealthStatus.Healthy);
            _last[name] = entry.Status;
            if (previous == entry.Status)
            {
                continue;
            }

            if (!gate.IsOpen)
            {
                LogWhileStarting(name, entry.Status, entry.Description ?? string.Empty);
            }
            else if (entry.Status == HealthStatus.Healthy)
            {
                LogRecovered(name, previous, entry.Description ?? string.Empty);
            }
            else
            {
                LogChanged(name, entry.Status, entry.Description ?? string.Empty);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Readiness check {Check} is {Status} while the node starts: {Description}")]
    private partial void LogWhileStarting(string check, HealthStatus status, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness check {Check} is {Status}: {Description}")]
    private partial void LogChanged(string check, HealthStatus status, string description);

    [LoggerMessage(Level = LogLevel.Information, Message = "Readiness check {Check} is Healthy again (was {Previous}): {Description}")]
    private partial void LogRecovered(string check, HealthStatus previous, string description);
}

using System.Runtime;
using Rooms.WebSocketHost.Connections;

namespace Rooms.WebSocketHost.Monitoring;

/// <summary>
/// Gives memory back after a surge of connections, either way. The GC only runs when something allocates, and
/// an idle server allocates almost nothing: measured, after 10 000 connections closed at once the process kept
/// its peak (400 MiB against 150 MiB before) for as long as it stayed quiet, whatever the GC settings
/// (workstation, <c>GCConserveMemory</c>, server GC with DATAS); and after 10 000 connected, the garbage of their
/// identifies (about 1.5 KiB a connection) stayed resident beside them. So one compacting collection runs when the
/// number of connections has fallen to half of its recent peak, and when it has doubled since the last collection
/// and then held still for one check (either way by at least <see cref="MinimumChange"/>): measured at 10 000
/// connections, a pause of about 200 ms, once per surge, at a moment without connects or disconnects; it is logged.
/// The same goes for big replies: after at least <see cref="MinimumReplyBytes"/> of them waited to be sent at once
/// (clients asking for history and not reading) and have gone, the memory they took is given back.
/// </summary>
internal sealed partial class MemoryReclaimer(ConnectionRegistry registry, ReplyBudget replies, ILogger<MemoryReclaimer> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    private const int MinimumChange = 1_000;

    private const long MinimumReplyBytes = 16L * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval);
        var (peak, atLastCollection, previous) = (0, 0, 0);
        long replyPeak = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = registry.Count;
            peak = Math.Max(peak, now);
            var fell = peak - now >= MinimumChange && now <= peak / 2;
            var roseAndSettled = now - atLastCollection >= MinimumChange && now >= 2 * atLastCollection && Math.Abs(now - previous) <= Math.Max(10, now / 100);
            previous = now;
            replyPeak = Math.Max(replyPeak, replies.TakePeak());
            var repliesGone = replyPeak >= MinimumReplyBytes && replies.Queued <= replyPeak / 8;
            if (!fell && !roseAndSettled && !repliesGone)
            {
                continue;
            }

            var before = Environment.WorkingSet;
            var paused = GC.GetTotalPauseDuration();
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var (returned, pause) = ((before - Environment.WorkingSet) / (1024 * 1024), (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
            if (repliesGone)
            {
                LogReclaimedReplies(replyPeak / (1024 * 1024), returned, pause);
                replyPeak = 0;
            }
            else
            {
                LogReclaimed(fell ? peak : atLastCollection, now, returned, pause);
            }

            peak = atLastCollection = now;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connections went from {From} to {Now}: memory compacted, {Mib} MiB returned, the pause took {PauseMs} ms")]
    private partial void LogReclaimed(int from, int now, long mib, double pauseMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "{PeakMib} MiB of big replies waited to be sent and have gone: memory compacted, {Mib} MiB returned, the pause took {PauseMs} ms")]
    private partial void LogReclaimedReplies(long peakMib, long mib, double pauseMs);
}

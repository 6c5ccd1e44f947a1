using System.Collections.Concurrent;

namespace Rooms.Application.Common;

/// <summary>
/// One line per kind of event per <see cref="Interval"/> instead of one per event: a client repeating a mistake a
/// thousand times a second costs the log one line every 10 s, saying how many like it were left out (all of them
/// are still counted in the metrics). The first event of a kind is always logged.
/// </summary>
public sealed class LogSampler
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Client-supplied text in a log line is cut to this many characters (a 64 KB frame must not reach the log).</summary>
    public const int MaxLoggedText = 200;

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <returns>True when this event is to be logged, with how many of its kind were left out since the last one logged.</returns>
    public bool ShouldLog(string kind, out int leftOut)
    {
        var now = Environment.TickCount64;
        var logged = false;
        var skipped = 0;
        _windows.AddOrUpdate(
            kind,
            _ =>
            {
                logged = true;
                return new Window(now, 0);
            },
            (_, window) =>
            {
                if (now - window.LoggedAt >= (long)Interval.TotalMilliseconds)
                {
                    logged = true;
                    skipped = window.LeftOut;
                    return new Window(now, 0);
                }

                logged = false;
                return window with { LeftOut = window.LeftOut + 1 };
            });
        leftOut = skipped;
        return logged;
    }

    /// <summary><paramref name="text"/> cut to <see cref="MaxLoggedText"/> characters.</summary>
    public static string Shorten(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= MaxLoggedText ? text : string.Concat(text.AsSpan(0, MaxLoggedText), "…");
    }

    private sealed record Window(long LoggedAt, int LeftOut);
}

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The time a connection has to identify, counted from the upgrade. It stands still while the server handles an
/// identify (the wait is the server's, e.g. a stalled database), and a failed identify resumes it where it stood:
/// it is never renewed. When it runs out, <c>onExpired</c> runs once.
/// </summary>
internal sealed class IdentifyDeadline : IDisposable
{
    private readonly Timer _timer;
    private TimeSpan _left;
    private long _runningSince;

    public IdentifyDeadline(TimeSpan timeout, Action onExpired)
    {
        _left = timeout;
        _runningSince = Environment.TickCount64;
        _timer = new Timer(static state => ((Action)state!)(), onExpired, timeout, Timeout.InfiniteTimeSpan);
    }

    public void Pause()
    {
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _left -= TimeSpan.FromMilliseconds(Environment.TickCount64 - _runningSince);
    }

    public void Resume()
    {
        _runningSince = Environment.TickCount64;
        _timer.Change(_left > TimeSpan.Zero ? _left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();
}

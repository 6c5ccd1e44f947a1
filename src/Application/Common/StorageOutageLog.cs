using Microsoft.Extensions.Logging;
using Rooms.Application.Ports;

namespace Rooms.Application.Common;

/// <summary>
/// Reports trouble with storage without flooding the log: the first failure of an outage is logged
/// with its exception, then one line with the count every <see cref="ReportInterval"/> while it lasts,
/// and one line when an operation succeeds again. At 200 messages/s against a stopped database that is
/// a handful of lines instead of two stack traces per message.
/// </summary>
public sealed partial class StorageOutageLog(ILogger<StorageOutageLog> logger, TimeProvider time)
{
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private volatile bool _down;
    private long _failedSinceStart;
    private long _failedSinceReport;
    private long _totalFailed;
    private DateTime _startedAt;
    private DateTime _reportedAt;

    /// <summary>Whether the last storage operation failed.</summary>
    public bool IsDown => _down;

    /// <summary>While storage is down: since when, and how many operations failed since. Null when it works.</summary>
    public (DateTime Since, long Failed)? Outage
    {
        get
        {
            lock (_lock)
            {
                return _down ? (_startedAt, _failedSinceStart) : null;
            }
        }
    }

    /// <summary>Storage operations that failed since the server started.</summary>
    public long TotalFailed => Interlocked.Read(ref _totalFailed);

    /// <param name="operation">What failed, for the first line: "identify", "message", ...</param>
    public void Failed(string operation, Exception exception)
    {
        Interlocked.Increment(ref _totalFailed);
        var now = time.GetUtcNow().UtcDateTime;
        lock (_lock)
        {
            if (!_down)
            {
                _down = true;
                _startedAt = _reportedAt = now;
                _failedSinceStart = 1;
                _failedSinceReport = 0;
                LogOutageStarted(exception, operation);
                return;
            }

            _failedSinceStart++;
            _failedSinceReport++;
            if (now - _reportedAt < ReportInterval)
            {
                return;
            }

            LogStillDown((now - _startedAt).TotalSeconds, _failedSinceReport, exception.GetType().Name, exception.Message);
            _reportedAt = now;
            _failedSinceReport = 0;
        }
    }

    /// <summary>The database's own error, a timeout or a broken connection, anywhere in the chain (EF Core wraps them).</summary>
    public static bool IsStorageFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException or TimeoutException or System.Net.Sockets.SocketException or IOException)
            {
                return true;
            }
        }

        return false;
    }

    public void Succeeded()
    {
        if (!_down)
        {
            return;
        }

        lock (_lock)
        {
            if (!_down)
            {
                return;
            }

            _down = false;
            LogOutageEnded((time.GetUtcNow().UtcDateTime - _startedAt).TotalSeconds, _failedSinceStart);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Storage unavailable ({Operation} failed); further failures are counted, not logged one by one")]
    private partial void LogOutageStarted(Exception exception, string operation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage still unavailable after {Seconds:F0} s: {Count} more operations failed ({ErrorType}: {Error})")]
    private partial void LogStillDown(double seconds, long count, string errorType, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage available again after {Seconds:F1} s; {Count} operations failed meanwhile")]
    private partial void LogOutageEnded(double seconds, long count);
}

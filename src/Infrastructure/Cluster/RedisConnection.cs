using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Rooms.Infrastructure.Cluster;

/// <summary>
/// The node's one connection to Redis, and the bookkeeping of its outages. A node keeps serving its
/// own members while Redis is away: calls fail fast instead of queuing, an outage is logged once
/// with its cause, then once more with how much it cost when Redis is back.
/// </summary>
public sealed partial class RedisConnection : IAsyncDisposable
{
    private readonly ILogger<RedisConnection> _logger;
    private long _failures;
    private long _outages;
    private int _down;
    private int _everConnected;

    private RedisConnection(ConnectionMultiplexer multiplexer, ILogger<RedisConnection> logger)
    {
        Multiplexer = multiplexer;
        _logger = logger;
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                // StackExchange.Redis subscribes again by itself once the connection is back.
                LogSubscriptionsLost(e.FailureType.ToString());
            }
            else
            {
                MarkDown(e.Exception);
            }
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription)
            {
                LogSubscriptionsRestored();
            }
            else
            {
                MarkUp();
            }
        };
    }

    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>Raised when Redis is reachable again after an outage: what lived only in Redis must be written again.</summary>
    public event Action? Restored;

    public bool IsUp => Volatile.Read(ref _down) == 0 && Multiplexer.IsConnected;

    /// <summary>Whether Redis has answered since start. A node whose Redis never answered is not in the cluster (a wrong address
    /// would split it silently), so it is not ready; an outage after that is the Degraded case.</summary>
    public bool EverConnected => Volatile.Read(ref _everConnected) == 1 || Multiplexer.IsConnected;

    /// <summary>Redis calls that failed (or were skipped) since start.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Outages since start.</summary>
    public long Outages => Interlocked.Read(ref _outages);

    /// <summary>Connects without waiting for Redis to be up: a node starts (and serves its own members) during an outage too.</summary>
    public static RedisConnection Connect(string configuration, ILogger<RedisConnection> logger)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ClientName ??= "rooms";
        var multiplexer = ConnectionMultiplexer.Connect(options);
        var connection = new RedisConnection(multiplexer, logger);
        if (multiplexer.IsConnected)
        {
            connection._everConnected = 1;
        }
        else
        {
            connection.LogNeverConnected(multiplexer.Configuration);
            Interlocked.Exchange(ref connection._down, 1);
            Interlocked.Increment(ref connection._outages);
        }

        return connection;
    }

    /// <summary>
    /// One Redis call the node can do without: skipped while Redis is down, its failure counted (and the
    /// outage logged once). Either way the caller gets <paramref name="whenUnavailable"/> and carries on.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<IDatabase, Task<T>> call, T whenUnavailable)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (!IsUp)
        {
            Skipped();
            return whenUnavailable;
        }

        try
        {
            var result = await call(Multiplexer.GetDatabase());
            Succeeded();
            return result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Failed(ex);
            return whenUnavailable;
        }
    }

    /// <summary>Counts a failed call; the first failure of an outage is logged with its exception.</summary>
    public void Failed(Exception exception)
    {
        Interlocked.Increment(ref _failures);
        MarkDown(exception);
    }

    /// <summary>A call went through: an outage the events did not report as over is.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref _down) == 1)
        {
            MarkUp();
        }
    }

    /// <summary>Counts a call skipped because Redis is down.</summary>
    public void Skipped() => Interlocked.Increment(ref _failures);

    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync();

    private void MarkDown(Exception? exception)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            Interlocked.Increment(ref _outages);
            LogOutage(exception, Multiplexer.Configuration);
        }
    }

    private void MarkUp()
    {
        Volatile.Write(ref _everConnected, 1);
        if (Interlocked.Exchange(ref _down, 0) == 1)
        {
            LogRestored(Failures);
            Restored?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis does not answer at {Configuration}: this node is not ready (it would split the cluster) until Redis answers; check Cluster:Redis")]
    private partial void LogNeverConnected(string configuration);

    [LoggerMessage(Level = LogLevel.Error, Message = "Redis unreachable ({Configuration}): serving this node's members only until it is back")]
    private partial void LogOutage(Exception? exception, string configuration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis subscription connection lost ({FailureType}): deliveries from other nodes pause until it is back")]
    private partial void LogSubscriptionsLost(string failureType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis subscription connection restored: room and node channels subscribed again")]
    private partial void LogSubscriptionsRestored();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is back; {Failures} Redis calls failed or were skipped since start. Re-registering presence")]
    private partial void LogRestored(long failures);
}

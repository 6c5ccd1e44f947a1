using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Devices;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Per-address and per-device token buckets (System.Threading.RateLimiting: one replenishing timer for all of them,
/// idle full buckets dropped), and the addresses refused for a while after guessing room ids. Each limit is "N per
/// minute": N at once, refilled evenly over the minute.
/// </summary>
internal sealed partial class ClientLimits : IClientLimits, IDisposable
{
    private readonly RoomsSettings _settings;
    private readonly ILogger<ClientLimits> _logger;
    private readonly PartitionedRateLimiter<string> _upgradesPerIp;
    private readonly PartitionedRateLimiter<string> _identifiesPerDevice;
    private readonly PartitionedRateLimiter<string> _failedJoins;
    private readonly PartitionedRateLimiter<string> _roomsPerIp;
    private readonly ConcurrentDictionary<string, long> _blockedUntil = new(StringComparer.Ordinal);

    public ClientLimits(RoomsSettings settings, ILogger<ClientLimits> logger)
    {
        _settings = settings;
        _logger = logger;
        _upgradesPerIp = PerMinute(settings.UpgradesPerMinutePerIp);
        _identifiesPerDevice = PerMinute(settings.IdentifiesPerMinutePerDevice);
        _failedJoins = PerMinute(settings.FailedJoinsPerMinute);
        _roomsPerIp = PerMinute(settings.RoomsCreatedPerMinutePerIp);
    }

    /// <summary>An upgrade from <paramref name="clientIp"/>; false past its rate.</summary>
    public bool TryUpgrade(string clientIp) => Take(_upgradesPerIp, clientIp);

    /// <summary>How long <paramref name="clientIp"/> is still refused (it guessed too many room ids), or null.</summary>
    public TimeSpan? BlockedFor(string clientIp)
    {
        if (!_blockedUntil.TryGetValue(clientIp, out var until))
        {
            return null;
        }

        var left = until - Environment.TickCount64;
        if (left > 0)
        {
            return TimeSpan.FromMilliseconds(left);
        }

        _blockedUntil.TryRemove(new KeyValuePair<string, long>(clientIp, until));
        return null;
    }

    public bool TryIdentify(ClientSession session, DeviceId deviceId) => Take(_identifiesPerDevice, deviceId.Value);

    public bool TryFailJoin(ClientSession session, DeviceId deviceId)
    {
        ArgumentNullException.ThrowIfNull(session);

        // Both are charged: a guesser rotating device ids is caught by its address, one rotating addresses by its device.
        var ipOk = Take(_failedJoins, "ip:" + session.ClientIp);
        var deviceOk = Take(_failedJoins, "device:" + deviceId);
        if (ipOk && deviceOk)
        {
            return true;
        }

        if (_blockedUntil.TryAdd(session.ClientIp, Environment.TickCount64 + (long)_settings.AbuseBlock.TotalMilliseconds))
        {
            LogBlocked(session.ClientIp, deviceId, _settings.FailedJoinsPerMinute, _settings.AbuseBlock.TotalSeconds);
        }

        return false;
    }

    public bool TryCreateRoom(ClientSession session, DeviceId deviceId)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Take(_roomsPerIp, session.ClientIp);
    }

    public void Dispose()
    {
        _upgradesPerIp.Dispose();
        _identifiesPerDevice.Dispose();
        _failedJoins.Dispose();
        _roomsPerIp.Dispose();
    }

    private static bool Take(PartitionedRateLimiter<string> limiter, string key)
    {
        using var lease = limiter.AttemptAcquire(key);
        return lease.IsAcquired;
    }

    private static PartitionedRateLimiter<string> PerMinute(int perMinute) => PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            // Refilled a little every second rather than all at once per minute.
            TokensPerPeriod = Math.Max(1, perMinute / 60),
            ReplenishmentPeriod = perMinute >= 60 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(60.0 / perMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Address {ClientIp} (device {DeviceId}) asked for over {Limit} unknown rooms in a minute: its upgrades are refused for {Seconds} s")]
    private partial void LogBlocked(string clientIp, DeviceId deviceId, int limit, double seconds);
}

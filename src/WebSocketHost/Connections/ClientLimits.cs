using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Devices;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Per-address and per-device token buckets (System.Threading.RateLimiting: one replenishing timer for all of them,
/// idle full buckets dropped), and the addresses refused for a while after guessing room ids. Each limit is "N per
/// minute": N at once, refilled evenly over the minute. An address is an IPv6 /64 or an IPv4 address, and its network
/// (an IPv6 /48, an IPv4 /24) has a bucket of <see cref="AddressGroups.WideShare"/> times the limit (<see cref="AddressGroups"/>).
/// </summary>
internal sealed partial class ClientLimits : IClientLimits, IDisposable
{
    private readonly RoomsSettings _settings;
    private readonly ILogger<ClientLimits> _logger;
    private readonly AddressLimiter _upgradesPerIp;
    private readonly PartitionedRateLimiter<string> _identifiesPerDevice;
    private readonly AddressLimiter _failedJoinsPerIp;
    private readonly PartitionedRateLimiter<string> _failedJoinsPerDevice;
    private readonly AddressLimiter _roomsPerIp;
    private readonly PartitionedRateLimiter<string> _inboundBytesPerIp;
    private readonly ConcurrentDictionary<string, long> _blockedUntil = new(StringComparer.Ordinal);

    public ClientLimits(RoomsSettings settings, ILogger<ClientLimits> logger)
    {
        _settings = settings;
        _logger = logger;
        _upgradesPerIp = new AddressLimiter(settings.UpgradesPerMinutePerIp);
        _identifiesPerDevice = PerMinute(settings.IdentifiesPerMinutePerDevice);
        _failedJoinsPerIp = new AddressLimiter(settings.FailedJoinsPerMinute);
        _failedJoinsPerDevice = PerMinute(settings.FailedJoinsPerMinute);
        _roomsPerIp = new AddressLimiter(settings.RoomsCreatedPerMinutePerIp);
        _inboundBytesPerIp = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.InboundBurstBytesPerAddress,
            TokensPerPeriod = Math.Max(1, settings.InboundBytesPerSecondPerAddress / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>
    /// Bytes of frames from one address (its <see cref="AddressGroups.Keys.Narrow"/> key, an IPv6 /64), all its connections
    /// together: what one address can make the server store. False past its rate (the frame is refused like one over the
    /// connection's rate). Called for every frame: the key is the connection's, worked out once.
    /// </summary>
    public bool TryInbound(AddressGroups.Keys address, int bytes)
    {
        using var lease = _inboundBytesPerIp.AttemptAcquire(address.Narrow, Math.Min(bytes, _settings.InboundBurstBytesPerAddress));
        return lease.IsAcquired;
    }

    /// <summary>An upgrade from <paramref name="address"/>; false past its rate.</summary>
    public bool TryUpgrade(AddressGroups.Keys address) => _upgradesPerIp.TryTake(address, out _);

    /// <summary>How long <paramref name="address"/> (or its network) is still refused (it guessed too many room ids), or null.</summary>
    public TimeSpan? BlockedFor(AddressGroups.Keys address)
    {
        var left = Math.Max(MillisecondsBlocked(address.Narrow), MillisecondsBlocked(address.Wide));
        return left > 0 ? TimeSpan.FromMilliseconds(left) : null;
    }

    private long MillisecondsBlocked(string key)
    {
        if (!_blockedUntil.TryGetValue(key, out var until))
        {
            return 0;
        }

        var left = until - Environment.TickCount64;
        if (left <= 0)
        {
            _blockedUntil.TryRemove(new KeyValuePair<string, long>(key, until));
        }

        return left;
    }

    public bool TryIdentify(ClientSession session, DeviceId deviceId) => Take(_identifiesPerDevice, deviceId.Value);

    public bool TryFailJoin(ClientSession session, DeviceId deviceId)
    {
        ArgumentNullException.ThrowIfNull(session);

        // Both are charged: a guesser rotating device ids is caught by its address, one rotating addresses by its device
        // (and one rotating addresses of one network by the network's share).
        var address = AddressGroups.Of(session.ClientIp);
        var addressOk = _failedJoinsPerIp.TryTake(address, out var over);
        var deviceOk = Take(_failedJoinsPerDevice, deviceId.Value);
        if (addressOk && deviceOk)
        {
            return true;
        }

        var blocked = over ?? address.Narrow;
        if (_blockedUntil.TryAdd(blocked, Environment.TickCount64 + (long)_settings.AbuseBlock.TotalMilliseconds))
        {
            LogBlocked(blocked.StartsWith("net:", StringComparison.Ordinal) ? blocked[4..] : blocked, deviceId, _settings.FailedJoinsPerMinute, _settings.AbuseBlock.TotalSeconds);
        }

        return false;
    }

    public bool TryCreateRoom(ClientSession session, DeviceId deviceId)
    {
        ArgumentNullException.ThrowIfNull(session);
        return _roomsPerIp.TryTake(AddressGroups.Of(session.ClientIp), out _);
    }

    public void Dispose()
    {
        _upgradesPerIp.Dispose();
        _identifiesPerDevice.Dispose();
        _failedJoinsPerIp.Dispose();
        _failedJoinsPerDevice.Dispose();
        _roomsPerIp.Dispose();
        _inboundBytesPerIp.Dispose();
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

    /// <summary>One per-address limit: a bucket per address (an IPv6 /64) and one of <see cref="AddressGroups.WideShare"/> times as many per network.</summary>
    private sealed class AddressLimiter(int perMinute) : IDisposable
    {
        private readonly PartitionedRateLimiter<string> _narrow = PerMinute(perMinute);
        private readonly PartitionedRateLimiter<string> _wide = PerMinute(perMinute * AddressGroups.WideShare);

        /// <param name="over">The key that was over its limit (the address's, or its network's), or null.</param>
        public bool TryTake(AddressGroups.Keys address, out string? over)
        {
            if (!Take(_narrow, address.Narrow))
            {
                over = address.Narrow;
                return false;
            }

            over = Take(_wide, address.Wide) ? null : address.Wide;
            return over is null;
        }

        public void Dispose()
        {
            _narrow.Dispose();
            _wide.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Address {ClientIp} (device {DeviceId}) asked for over {Limit} unknown rooms in a minute: its upgrades are refused for {Seconds} s")]
    private partial void LogBlocked(string clientIp, DeviceId deviceId, int limit, double seconds);
}

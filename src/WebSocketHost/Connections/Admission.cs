using System.Collections.Concurrent;
using Rooms.Application.Common;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Decides whether an upgrade may become a connection: browser origins on the allow-list; an address not refused
/// for guessing rooms and within its upgrade rate; at most <see cref="RoomsSettings.MaxConnections"/> in total and
/// <see cref="RoomsSettings.MaxConnectionsPerIp"/> per client address (an IPv6 /64; <see cref="AddressGroups"/>, with a
/// share for the network around it); and of those, at most <see cref="RoomsSettings.MaxUnidentifiedConnections"/> (and
/// per address) not identified yet. When that pool is full, the oldest connection that is waiting for its client's
/// identify (not for the server) makes room: connections that never identify cannot keep a new client out. An
/// admitted connection holds a slot until its lease is disposed.
/// </summary>
internal sealed partial class Admission(RoomsSettings settings, ClientLimits limits, ILogger<Admission> logger)
{
    /// <summary>A connection younger than this is not evicted: a client identifies within a round trip of the upgrade.</summary>
    public static readonly TimeSpan EvictableAfter = TimeSpan.FromSeconds(1);

    /// <summary>How many of the oldest unidentified connections an upgrade looks through for one to evict.</summary>
    private const int EvictionScan = 64;

    private readonly ConcurrentDictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _unidentifiedPerIp = new(StringComparer.Ordinal);
    private readonly HashSet<string> _origins = new(settings.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    private readonly LogSampler _sampler = new();

    // The unidentified connections, oldest first (guarded by itself).
    private readonly LinkedList<Slot> _waiting = new();
    private int _total;
    private int _unidentified;

    /// <returns>The slot to dispose when the connection ends, or null when the upgrade was refused (the response is written).</returns>
    public async Task<Slot?> TryAdmitAsync(HttpContext context, string clientIp)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (_origins.Count > 0 && origin.Length > 0 && !_origins.Contains(origin))
        {
            if (_sampler.ShouldLog("origin", out var leftOut))
            {
                LogOriginRefused(LogSampler.Shorten(origin), clientIp, leftOut);
            }

            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin not allowed", retryAfterSeconds: null);
            return null;
        }

        var address = AddressGroups.Of(clientIp);
        if (limits.BlockedFor(address) is { } blocked)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many unknown room ids from this address: try again later", (int)Math.Ceiling(blocked.TotalSeconds));
            return null;
        }

        if (!limits.TryUpgrade(address))
        {
            if (_sampler.ShouldLog("too-fast", out var leftOut))
            {
                LogTooFast(clientIp, settings.UpgradesPerMinutePerIp, leftOut);
            }

            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connection attempts from this address", retryAfterSeconds: 5);
            return null;
        }

        if (Interlocked.Increment(ref _total) > settings.MaxConnections)
        {
            Interlocked.Decrement(ref _total);
            LogFullSampled("server", settings.MaxConnections, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Server full: too many connections", retryAfterSeconds: 5);
            return null;
        }

        if (!Count(_perIp, address, settings.MaxConnectionsPerIp))
        {
            Interlocked.Decrement(ref _total);
            LogFullSampled("client address", settings.MaxConnectionsPerIp, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections from this address", retryAfterSeconds: 5);
            return null;
        }

        // Counted as not identified until the session identifies (Slot.LeavePool). MaxConnections, checked above,
        // already bounds the total when it is the smaller of the two.
        if (!Count(_unidentifiedPerIp, address, settings.MaxUnidentifiedConnectionsPerIp))
        {
            Release(address);
            LogFullSampled("not yet identified (this address)", settings.MaxUnidentifiedConnectionsPerIp, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections waiting to identify from this address", retryAfterSeconds: 5);
            return null;
        }

        if (Interlocked.Increment(ref _unidentified) > settings.MaxUnidentifiedConnections && !EvictOldestWaiting())
        {
            Interlocked.Decrement(ref _unidentified);
            Uncount(_unidentifiedPerIp, address);
            Release(address);
            LogFullSampled("not yet identified", settings.MaxUnidentifiedConnections, clientIp);
            // A storm of clients all identifying: the pool empties within a second or two.
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections waiting to identify", retryAfterSeconds: 1);
            return null;
        }

        var slot = new Slot(this, address);
        lock (_waiting)
        {
            slot.Waiting = _waiting.AddLast(slot);
        }

        return slot;
    }

    /// <summary>
    /// Makes room in a full pool: closes the oldest unidentified connection that has waited at least
    /// <see cref="EvictableAfter"/> for its client (not one whose identify the server is handling).
    /// </summary>
    private bool EvictOldestWaiting()
    {
        var now = Environment.TickCount64;
        Slot? victim = null;
        lock (_waiting)
        {
            var scanned = 0;
            for (var node = _waiting.First; node is not null && scanned < EvictionScan; node = node.Next, scanned++)
            {
                if (!node.Value.Identifying && now - node.Value.AdmittedAt >= EvictableAfter.TotalMilliseconds && node.Value.Evict is not null)
                {
                    victim = node.Value;
                    break;
                }
            }
        }

        if (victim is null)
        {
            return false;
        }

        // Its place is the newcomer's now: the victim's count moves over, and its lease no longer releases it.
        if (!victim.TryHandOver())
        {
            return false;
        }

        LogEvictedSampled(victim.Address.Narrow);
        victim.Evict!();
        return true;
    }

    private void ReleaseUnidentified(Slot slot, bool countedInPool)
    {
        lock (_waiting)
        {
            if (slot.Waiting is { List: not null } node)
            {
                _waiting.Remove(node);
            }
        }

        if (countedInPool)
        {
            Interlocked.Decrement(ref _unidentified);
        }

        Uncount(_unidentifiedPerIp, slot.Address);
    }

    /// <summary>Counts one more under the address and its network (the network may hold <see cref="AddressGroups.WideShare"/> times the limit); false, counting nothing, past either.</summary>
    private static bool Count(ConcurrentDictionary<string, int> counts, AddressGroups.Keys address, int limit)
    {
        var narrow = counts.AddOrUpdate(address.Narrow, 1, static (_, n) => n + 1);
        var wide = counts.AddOrUpdate(address.Wide, 1, static (_, n) => n + 1);
        if (narrow <= limit && wide <= limit * AddressGroups.WideShare)
        {
            return true;
        }

        Uncount(counts, address);
        return false;
    }

    private static void Uncount(ConcurrentDictionary<string, int> counts, AddressGroups.Keys address)
    {
        Decrement(counts, address.Narrow);
        Decrement(counts, address.Wide);
    }


    public static string ClientIp(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        return (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString() ?? "unknown";
    }

    private void Release(AddressGroups.Keys address)
    {
        Interlocked.Decrement(ref _total);
        Uncount(_perIp, address);
    }

    private static void Decrement(ConcurrentDictionary<string, int> counts, string key)
    {
        // Removes the entry only if it still holds 1, so a concurrent admit for the same key is not lost.
        if (!counts.TryRemove(new KeyValuePair<string, int>(key, 1)))
        {
            counts.AddOrUpdate(key, 0, static (_, n) => n - 1);
        }
    }

    private void LogEvictedSampled(string address)
    {
        if (_sampler.ShouldLog("evicted", out var leftOut))
        {
            LogEvicted(address, EvictableAfter.TotalSeconds, leftOut);
        }
    }

    /// <summary>Answers an upgrade that does not become a connection: a status, why, and when to try again.</summary>
    public static Task RefuseAsync(HttpContext context, int status, string reason, int? retryAfterSeconds)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return context.Response.WriteAsync(reason);
    }

    private void LogFullSampled(string scope, int limit, string clientIp)
    {
        if (_sampler.ShouldLog(scope, out var leftOut))
        {
            LogFull(scope, limit, clientIp, leftOut);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upgrade from {ClientIp} refused: origin {Origin} is not allowed ({LeftOut} more not logged since the last line)")]
    private partial void LogOriginRefused(string origin, string clientIp, int leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upgrade from {ClientIp} refused: {Scope} limit of {Limit} connections reached ({LeftOut} more not logged since the last line)")]
    private partial void LogFull(string scope, int limit, string clientIp, int leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upgrade from {ClientIp} refused: over {Limit} connection attempts per minute ({LeftOut} more not logged since the last line)")]
    private partial void LogTooFast(string clientIp, int limit, int leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A connection from {Address} waiting over {Seconds} s to identify was closed to make room: the pool of connections waiting to identify is full ({LeftOut} more not logged since the last line)")]
    private partial void LogEvicted(string address, double seconds, int leftOut);

    /// <summary>A connection's place: counted as not identified until <see cref="LeavePool"/>.</summary>
    internal sealed class Slot(Admission admission, AddressGroups.Keys address) : IDisposable
    {
        // 0: waiting to identify; 1: identified or ended (its place released); 2: handed to a newcomer by eviction.
        private int _unidentifiedState;
        private int _disposed;

        public AddressGroups.Keys Address { get; } = address;

        public long AdmittedAt { get; } = Environment.TickCount64;

        /// <summary>The server is handling this connection's identify: the wait is the server's, not the client's.</summary>
        public bool Identifying { get; set; }

        /// <summary>Ends the connection at once (set by its handler); what eviction calls.</summary>
        public Action? Evict { get; set; }

        internal LinkedListNode<Slot>? Waiting { get; set; }

        /// <summary>The connection identified, or its deadline passed: it no longer counts as waiting to identify.</summary>
        public void LeavePool()
        {
            if (Interlocked.CompareExchange(ref _unidentifiedState, 1, 0) == 0)
            {
                admission.ReleaseUnidentified(this, countedInPool: true);
            }
        }

        /// <summary>Eviction takes this connection's place in the pool for a newcomer; false if it identified meanwhile.</summary>
        internal bool TryHandOver()
        {
            if (Interlocked.CompareExchange(ref _unidentifiedState, 2, 0) != 0)
            {
                return false;
            }

            admission.ReleaseUnidentified(this, countedInPool: false);
            return true;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                LeavePool();
                admission.Release(Address);
            }
        }
    }
}

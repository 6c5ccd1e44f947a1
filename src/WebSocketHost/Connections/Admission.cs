using System.Collections.Concurrent;
using Rooms.Application.Common;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Decides whether an upgrade may become a connection: browser origins on the allow-list; an address not refused
/// for guessing rooms and within its upgrade rate; at most <see cref="RoomsSettings.MaxConnections"/> in total and
/// <see cref="RoomsSettings.MaxConnectionsPerIp"/> per client IP; and of those, at most
/// <see cref="RoomsSettings.MaxUnidentifiedConnections"/> (and per IP) not identified yet. An admitted connection
/// holds a slot until its lease is disposed.
/// </summary>
internal sealed partial class Admission(RoomsSettings settings, ClientLimits limits, ILogger<Admission> logger)
{
    private readonly ConcurrentDictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _unidentifiedPerIp = new(StringComparer.Ordinal);
    private readonly HashSet<string> _origins = new(settings.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    private readonly LogSampler _sampler = new();
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

        if (limits.BlockedFor(clientIp) is { } blocked)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many unknown room ids from this address: try again later", (int)Math.Ceiling(blocked.TotalSeconds));
            return null;
        }

        if (!limits.TryUpgrade(clientIp))
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

        if (_perIp.AddOrUpdate(clientIp, 1, static (_, n) => n + 1) > settings.MaxConnectionsPerIp)
        {
            Release(clientIp);
            LogFullSampled("client IP", settings.MaxConnectionsPerIp, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections from this address", retryAfterSeconds: 5);
            return null;
        }

        // Counted as not identified until the session identifies (Slot.Identified). MaxConnections, checked above,
        // already bounds the total when it is the smaller of the two.
        var unidentifiedHere = _unidentifiedPerIp.AddOrUpdate(clientIp, 1, static (_, n) => n + 1);
        if (Interlocked.Increment(ref _unidentified) > settings.MaxUnidentifiedConnections || unidentifiedHere > settings.MaxUnidentifiedConnectionsPerIp)
        {
            ReleaseUnidentified(clientIp);
            Release(clientIp);
            LogFullSampled("not yet identified", unidentifiedHere > settings.MaxUnidentifiedConnectionsPerIp ? settings.MaxUnidentifiedConnectionsPerIp : settings.MaxUnidentifiedConnections, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections waiting to identify", retryAfterSeconds: 5);
            return null;
        }

        return new Slot(this, clientIp);
    }

    private void ReleaseUnidentified(string clientIp)
    {
        Interlocked.Decrement(ref _unidentified);
        Decrement(_unidentifiedPerIp, clientIp);
    }

    public static string ClientIp(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        return (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString() ?? "unknown";
    }

    private void Release(string clientIp)
    {
        Interlocked.Decrement(ref _total);
        Decrement(_perIp, clientIp);
    }

    private static void Decrement(ConcurrentDictionary<string, int> counts, string clientIp)
    {
        // Removes the entry only if it still holds 1, so a concurrent admit for the same IP is not lost.
        if (!counts.TryRemove(new KeyValuePair<string, int>(clientIp, 1)))
        {
            counts.AddOrUpdate(clientIp, 0, static (_, n) => n - 1);
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

    /// <summary>A connection's place: counted as not identified until <see cref="Identified"/>.</summary>
    internal sealed class Slot(Admission admission, string clientIp) : IDisposable
    {
        private int _identified;
        private int _disposed;

        public void Identified()
        {
            if (Interlocked.Exchange(ref _identified, 1) == 0)
            {
                admission.ReleaseUnidentified(clientIp);
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Identified();
                admission.Release(clientIp);
            }
        }
    }
}

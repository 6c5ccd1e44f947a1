using System.Collections.Concurrent;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Decides whether an upgrade may become a connection: browser origins on the allow-list, and at most
/// <see cref="RoomsSettings.MaxConnections"/> in total and <see cref="RoomsSettings.MaxConnectionsPerIp"/>
/// per client IP. An admitted connection holds a slot until its lease is disposed.
/// </summary>
internal sealed partial class Admission(RoomsSettings settings, ILogger<Admission> logger)
{
    private readonly ConcurrentDictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly HashSet<string> _origins = new(settings.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    private int _total;

    /// <returns>The slot to dispose when the connection ends, or null when the upgrade was refused (the response is written).</returns>
    public async Task<IDisposable?> TryAdmitAsync(HttpContext context, string clientIp)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (_origins.Count > 0 && origin.Length > 0 && !_origins.Contains(origin))
        {
            LogOriginRefused(origin, clientIp);
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin not allowed", retryAfterSeconds: null);
            return null;
        }

        if (Interlocked.Increment(ref _total) > settings.MaxConnections)
        {
            Interlocked.Decrement(ref _total);
            LogFull("server", settings.MaxConnections, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Server full: too many connections", retryAfterSeconds: 5);
            return null;
        }

        if (_perIp.AddOrUpdate(clientIp, 1, static (_, n) => n + 1) > settings.MaxConnectionsPerIp)
        {
            Release(clientIp);
            LogFull("client IP", settings.MaxConnectionsPerIp, clientIp);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many connections from this address", retryAfterSeconds: 5);
            return null;
        }

        return new Slot(this, clientIp);
    }

    public static string ClientIp(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        return (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString() ?? "unknown";
    }

    private void Release(string clientIp)
    {
        Interlocked.Decrement(ref _total);
        // Removes the entry only if it still holds 1, so a concurrent admit for the same IP is not lost.
        if (!_perIp.TryRemove(new KeyValuePair<string, int>(clientIp, 1)))
        {
            _perIp.AddOrUpdate(clientIp, 0, static (_, n) => n - 1);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upgrade from {ClientIp} refused: origin {Origin} is not allowed")]
    private partial void LogOriginRefused(string origin, string clientIp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upgrade from {ClientIp} refused: {Scope} limit of {Limit} connections reached")]
    private partial void LogFull(string scope, int limit, string clientIp);

    private sealed class Slot(Admission admission, string clientIp) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                admission.Release(clientIp);
            }
        }
    }
}

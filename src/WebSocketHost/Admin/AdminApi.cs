using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Rooms.Application.Common;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence;
using Rooms.WebSocketHost.Connections;
using Rooms.WebSocketHost.Monitoring;

namespace Rooms.WebSocketHost.Admin;

/// <summary>The <c>Admin</c> configuration section.</summary>
public sealed class AdminSettings
{
    public const string SectionName = "Admin";

    /// <summary>When set, requests carrying it (header <c>X-Admin-Key</c>, or <c>Authorization: Bearer</c>) may use the dashboard, the API and the metrics from anywhere.</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Host names under which a loopback visitor without the key is let in. A page in a local browser that rebinds its
    /// own domain to 127.0.0.1 sends that domain as Host, so it is refused (DNS rebinding).
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    public static readonly string[] LocalHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>Serve <c>/metrics</c> to anyone (a scraper without the key); off: the same rule as the API.</summary>
    public bool PublicMetrics { get; set; }

    private Microsoft.Extensions.Primitives.StringSegment[]? _hostPatterns;

    /// <summary><see cref="AllowedHosts"/> (or <see cref="LocalHosts"/> when unset) as host-filtering patterns, built once.</summary>
    public IList<Microsoft.Extensions.Primitives.StringSegment> HostPatterns =>
        _hostPatterns ??= [.. (AllowedHosts.Length == 0 ? LocalHosts : AllowedHosts).Select(h => new Microsoft.Extensions.Primitives.StringSegment(h))];
}

/// <summary>
/// <c>GET /admin</c> (the dashboard), <c>GET /api/rooms</c> (rooms with live members, on every node),
/// <c>GET /api/rooms/{id}</c> (its members with their open connections, and its recent messages), <c>GET /api/stats</c>,
/// and <c>/metrics</c>: for a loopback visitor using a local host name, or any request carrying the admin key. No key,
/// no remote access.
/// </summary>
internal static class AdminApi
{
    public const string KeyHeader = "X-Admin-Key";
    private const int RecentMessages = 20;
    private const int RecentErrorsShown = 20;

    /// <summary>Guards <c>/metrics</c> (a plain request delegate, which endpoint filters do not reach) with the admin rule.</summary>
    /// <summary>
    /// The admin rule for an endpoint marked <see cref="AdminOnly"/> (the metrics), decided on the endpoint routing chose:
    /// a rule on the path would have to match routing's way of comparing it (the probe reached /METRICS past a case-exact one).
    /// </summary>
    public static void UseAdminRuleForMetrics(this WebApplication app, AdminSettings settings)
    {
        if (!settings.PublicMetrics)
        {
            app.UseWhen(
                context => context.GetEndpoint()?.Metadata.GetMetadata<AdminOnly>() is not null && !IsAllowed(context, settings),
                refused => refused.Run(context => Forbid(context)));
        }
    }

    /// <summary>Marks an endpoint that <see cref="UseAdminRuleForMetrics"/> guards.</summary>
    public sealed class AdminOnly;

    public static void MapAdminApi(this WebApplication app, AdminSettings settings)
    {
        // The pages: the browser client for anyone, the dashboard under the same rule as the API (its script inlined,
        // so no file of it is served on its own).
        app.MapGet("/client", () => Page("wwwroot", "client.html"));
        app.MapGet("/admin", (HttpContext context) => IsAllowed(context, settings) || IsAllowedByQuery(context, settings.Key) ? DashboardPage() : Results.StatusCode(StatusCodes.Status403Forbidden));

        var api = app.MapGroup("/api").AddEndpointFilter((context, next) =>
            IsAllowed(context.HttpContext, settings) ? next(context) : ValueTask.FromResult<object?>(Results.StatusCode(StatusCodes.Status403Forbidden)));

        api.MapGet("/rooms", async (RoomPresence presence, NodeIdentity node, DatabaseGate database, CancellationToken cancellationToken) =>
        {
            var rooms = new List<(RoomId RoomId, IReadOnlyList<RoomMember> Members)>();
            foreach (var roomId in (await presence.OccupiedRoomsAsync(cancellationToken)).OrderBy(r => r.Value, StringComparer.Ordinal))
            {
                rooms.Add((roomId, await presence.MembersAsync(roomId, cancellationToken)));
            }

            await using var lease = await database.OpenAsync(cancellationToken);
            var since = await ConnectedSinceAsync(lease.Db, rooms.SelectMany(r => r.Members), cancellationToken);
            return Results.Ok(new
            {
                node_id = node.NodeId.Value,
                rooms = rooms.Select(r => new { room_id = r.RoomId.Value, members = r.Members.Select(m => Member(m, since)) }),
            });
        });

        api.MapGet("/stats", async (NodeStats stats, IClusterStatus cluster, CancellationToken cancellationToken) =>
        {
            var self = stats.Snapshot();
            var nodes = new List<NodeStats.Figures> { self };
            nodes.AddRange((await cluster.NodeStatsAsync(cancellationToken))
                .Select(json => JsonSerializer.Deserialize<NodeStats.Figures>(json)!)
                .Where(other => other.NodeId != self.NodeId));

            return Results.Ok(new
            {
                node_id = self.NodeId,
                at = self.At,
                connections = nodes.Sum(n => n.Connections),
                messages_stored = nodes.Sum(n => n.MessagesStored),
                commit_ms = self.CommitMs,
                slow_consumer_drops = nodes.Sum(n => n.SlowConsumerDrops),
                nodes = nodes.OrderBy(n => n.NodeId, StringComparer.Ordinal),
                recent_errors = nodes.SelectMany(n => n.RecentErrors).OrderByDescending(e => e.At).Take(RecentErrorsShown),
                rate_history = RateHistory(nodes),
            });
        });

        api.MapGet("/rooms/{roomId}", async (string roomId, RoomPresence presence, DatabaseGate database, CancellationToken cancellationToken) =>
        {
            await using var lease = await database.OpenAsync(cancellationToken);
            var db = lease.Db;
            if (!RoomId.IsValid(roomId) || !await db.Rooms.AnyAsync(r => r.RoomId == roomId, cancellationToken))
            {
                return Results.NotFound(new { error = $"No room {roomId}" });
            }

            var members = await presence.MembersAsync(new RoomId(roomId), cancellationToken);
            var since = await ConnectedSinceAsync(db, members, cancellationToken);
            var messages = await db.Messages.AsNoTracking().Where(m => m.RoomId == roomId).OrderByDescending(m => m.Id).Take(RecentMessages).ToListAsync(cancellationToken);
            return Results.Ok(new
            {
                room_id = roomId,
                members = members.Select(m => Member(m, since)),
                recent_messages = messages.Select(m => new
                {
                    message_id = m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    from_device_id = m.FromDeviceId,
                    to_device_id = m.ToDeviceId,
                    message_type = m.MessageType,
                    content = m.MessageContent,
                    sent_at = Utc(m.SentAt),
                }),
            });
        });
    }

    /// <summary>Messages per second of all nodes together: each node's samples summed by the 2-second slot they fall in.</summary>
    private static IEnumerable<NodeStats.RateSample> RateHistory(List<NodeStats.Figures> nodes)
    {
        var slot = NodeStats.PostInterval.Ticks;
        return nodes.SelectMany(n => n.Rates)
            .GroupBy(r => r.At.Ticks / slot)
            .OrderBy(g => g.Key)
            .Select(g => new NodeStats.RateSample(new DateTime(g.Key * slot, DateTimeKind.Utc), Math.Round(g.Sum(r => r.PerSecond), 2)));
    }

    private static object Member(RoomMember member, Dictionary<long, DateTime> since) =>
        new { device_id = member.DeviceId.Value, identity = member.Identity, node_id = member.NodeId.Value, connected_since = Utc(since.GetValueOrDefault(member.ConnectionId.Value)) };

    /// <summary>Times come back from the database without a kind; they are UTC, and must say so (a trailing Z) or browsers read them as local.</summary>
    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    /// <summary>When each member's connection opened (its connection id is its <c>connections</c> row).</summary>
    private static async Task<Dictionary<long, DateTime>> ConnectedSinceAsync(RoomsDbContext db, IEnumerable<RoomMember> members, CancellationToken cancellationToken)
    {
        var rows = members.Select(m => m.ConnectionId.Value).ToList();
        return rows.Count == 0
            ? []
            : await db.Connections.Where(c => rows.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.ConnectedAt, cancellationToken);
    }

    private static IResult Page(string folder, string file) =>
        Results.File(Path.Combine(AppContext.BaseDirectory, folder, file), "text/html; charset=utf-8");

    private static IResult DashboardPage()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Admin", "Pages");
        var html = File.ReadAllText(Path.Combine(folder, "admin.html"))
            .Replace("""<script src="/admin.js"></script>""", $"<script>\n{File.ReadAllText(Path.Combine(folder, "admin.js"))}</script>", StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static Task Forbid(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }

    /// <summary>The dashboard page may carry the key in its URL (<c>/admin?key=...</c>); its API calls then send the header.</summary>
    private static bool IsAllowedByQuery(HttpContext context, string? key) =>
        KeyMatches(context.Request.Query["key"].ToString(), key);

    /// <summary>
    /// The right key from anywhere; without it, loopback (after X-Forwarded-For from a trusted proxy, so proxied visitors
    /// are not local) under one of the allowed host names.
    /// </summary>
    public static bool IsAllowed(HttpContext context, AdminSettings settings)
    {
        var presented = context.Request.Headers[KeyHeader].ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        if (presented.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        if (KeyMatches(presented, settings.Key))
        {
            return true;
        }

        var remote = context.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote)
            && HostString.MatchesAny(new Microsoft.Extensions.Primitives.StringSegment(context.Request.Host.Host), settings.HostPatterns);
    }

    /// <summary>A key is configured and the one presented is it (compared in constant time).</summary>
    private static bool KeyMatches(string presented, string? key) =>
        !string.IsNullOrEmpty(key) && presented.Length > 0
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key));
}

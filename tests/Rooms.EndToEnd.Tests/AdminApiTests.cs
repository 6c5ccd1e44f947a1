using System.Net;
using System.Text.Json;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>The operators' JSON API and its access rule: loopback, or a request carrying the admin key.</summary>
public sealed class AdminApiTests : IAsyncLifetime
{
    private const string Key = "admin-test-key";
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database, $"--Admin:Key={Key}");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task Rooms_ListsLiveRoomsAndMembers_RoomShowsConnectionsAndRecentMessages()
    {
        var (alice, room) = await TestClient.IdentifiedAsync(_server, "api-alice", identity: "Alice");
        var roomId = room.GetProperty("room_id").GetString()!;
        var (bob, _) = await TestClient.IdentifiedAsync(_server, "api-bob", roomId);
        bob.IgnoresPresence = true;
        await alice.SendObjectAsync(new { type = "message", content = "for the record" });
        await bob.ReceiveAsync();
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/rooms", UriKind.Relative)));
        var listed = list.RootElement.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("room_id").GetString() == roomId);
        Assert.Equal(["api-alice", "api-bob"], listed.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("device_id").GetString()).Order());

        using var detail = JsonDocument.Parse(await http.GetStringAsync(new Uri($"/api/rooms/{roomId}", UriKind.Relative)));
        var alicesEntry = detail.RootElement.GetProperty("members").EnumerateArray().Single(m => m.GetProperty("device_id").GetString() == "api-alice");
        Assert.Equal("Alice", alicesEntry.GetProperty("identity").GetString());
        Assert.True(alicesEntry.GetProperty("connected_since").GetDateTime() > DateTime.UtcNow.AddMinutes(-5));
        // UTC, and saying so: a browser outside UTC reads a time without Z as local.
        Assert.EndsWith("Z", alicesEntry.GetProperty("connected_since").GetString());
        Assert.EndsWith("Z", detail.RootElement.GetProperty("recent_messages")[0].GetProperty("sent_at").GetString());
        Assert.EndsWith("Z", listed.GetProperty("members")[0].GetProperty("connected_since").GetString());
        Assert.Equal("for the record", detail.RootElement.GetProperty("recent_messages")[0].GetProperty("content").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/api/rooms/NOPE00", UriKind.Relative))).StatusCode);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Stats_RateHistoryFromTheServer_RecentErrorsNameTheirSession_OversizedFramesIncluded()
    {
        var (sender, _) = await TestClient.IdentifiedAsync(_server, "stats-sender");
        for (var i = 0; i < 5; i++)
        {
            await sender.SendObjectAsync(new { type = "message", content = $"m{i}" });
        }

        await sender.SendObjectAsync(new { type = "message", content = "x", target_device_id = "nobody" });
        await sender.ExpectErrorAsync("Target device not found");
        var (big, _) = await TestClient.IdentifiedAsync(_server, "stats-big");
        await big.SendAsync(new string('x', 110_000));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.MessageTooBig, (await big.ExpectCloseAsync()).Status);
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        // The samples are the server's (every 2 s), so a dashboard opened now has a chart at once.
        JsonElement stats = default;
        await Eventually.TrueAsync(async () =>
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/stats", UriKind.Relative)));
            stats = document.RootElement.Clone();
            return stats.GetProperty("rate_history").EnumerateArray().Any(r => r.GetProperty("per_second").GetDouble() > 0);
        }, TimeSpan.FromSeconds(15), pollMilliseconds: 250);

        var errors = stats.GetProperty("recent_errors").EnumerateArray().ToList();
        var notFound = errors.First(e => e.GetProperty("message").GetString()!.StartsWith("Target device not found", StringComparison.Ordinal));
        Assert.Contains("device stats-sender", notFound.GetProperty("source").GetString());
        var tooBig = errors.First(e => e.GetProperty("kind").GetString() == "too_big");
        Assert.Contains("device stats-big", tooBig.GetProperty("source").GetString());
        Assert.EndsWith("Z", stats.GetProperty("rate_history")[0].GetProperty("at").GetString());
        await sender.DisposeAsync();
        await big.DisposeAsync();
    }

    /// <summary>DNS rebinding: a page in a local browser rebinds its own name to 127.0.0.1; its requests carry that name as Host.</summary>
    [Theory]
    [InlineData("/api/rooms")]
    [InlineData("/admin")]
    [InlineData("/metrics")]
    [InlineData("/Metrics")]
    [InlineData("/METRICS")]
    public async Task LoopbackUnderAForeignHostName_Refused_UnlessItCarriesTheKey(string path)
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        using var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        rebound.Headers.Host = "evil.example";
        using var local = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        local.Headers.Host = "localhost";
        using var keyed = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        keyed.Headers.Host = "rooms.example.com";
        keyed.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Key);

        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(rebound)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(local)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(keyed)).StatusCode);
    }

    [Fact]
    public async Task DashboardFiles_NotServedOnTheirOwn_MetricsNeedTheRuleFromAfar()
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/admin.html", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/admin.js", UriKind.Relative))).StatusCode);
        Assert.Contains("setInterval(refresh", await http.GetStringAsync(new Uri("/admin", UriKind.Relative)));
        foreach (var path in (string[])["/metrics", "/Metrics", "/METRICS"])
        {
            // The probe's bypass: routing matches the path without case, the rule compared it with case.
            using var remote = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            remote.Headers.Add("X-Forwarded-For", "203.0.113.7");
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(remote)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/client", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/client.js", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Forbidden)]
    [InlineData("wrong-key", HttpStatusCode.Forbidden)]
    [InlineData(Key, HttpStatusCode.OK)]
    public async Task RemoteRequest_NeedsTheAdminKey(string? presented, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = _server.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/rooms", UriKind.Relative));

        // Through a local proxy from another machine: the server sees the forwarded address, not loopback.
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        if (presented is not null)
        {
            request.Headers.Add("X-Admin-Key", presented);
        }

        Assert.Equal(expected, (await http.SendAsync(request)).StatusCode);
    }
}

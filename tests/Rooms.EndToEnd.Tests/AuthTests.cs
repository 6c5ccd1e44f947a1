using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Auth;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;
using Rooms.WebSocketHost;

namespace Rooms.EndToEnd.Tests;

/// <summary>Device authentication (docs/protocol.md "Device authentication"): with Auth:Mode=Token a device proves its id.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private const string Key = "test-signing-key-0123456789-abcdefghij";
    private static readonly AuthSettings Settings = new() { Mode = AuthMode.Token, SigningKey = Key };

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database, "--Auth:Mode=Token", $"--Auth:SigningKey={Key}");

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    private static string Token(string deviceId, params string[] rooms) => JwtDeviceAuthenticator.Mint(Settings, deviceId, rooms, DateTime.UtcNow.AddHours(1));

    [Fact]
    public async Task ValidToken_InIdentifyOrInTheUrl_Admitted()
    {
        await using var byField = await TestClient.ConnectAsync(_server);
        await byField.ReceiveAsync();
        await byField.SendObjectAsync(new { device_id = "alice", identity = "a", token = Token("alice") });
        var room = await byField.ReceiveAsync();
        Assert.Equal("created_new", room.GetProperty("status").GetString());

        await using var byUrl = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("bob")));
        await byUrl.ReceiveAsync();
        Assert.Equal("joined_existing", (await byUrl.IdentifyAsync("bob", room.GetProperty("room_id").GetString())).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("other-device")]
    [InlineData("expired")]
    [InlineData("wrong-key")]
    [InlineData("garbage")]
    public async Task BadToken_ErrorThenClose4003_NothingStored(string kind)
    {
        string? token = kind switch
        {
            "missing" => null,
            "other-device" => Token("mallory"),
            "expired" => JwtDeviceAuthenticator.Mint(Settings, "alice", [], DateTime.UtcNow.AddMinutes(-5)),
            "wrong-key" => JwtDeviceAuthenticator.Mint(new AuthSettings { SigningKey = "another-key-that-is-long-enough-0123456789" }, "alice", [], DateTime.UtcNow.AddHours(1)),
            _ => "not.a.jwt",
        };
        await using var client = await TestClient.ConnectAsync(_server);
        await client.ReceiveAsync();

        await client.SendObjectAsync(new { device_id = "alice", identity = "a", token });

        var error = await client.ExpectErrorAsync(kind == "missing" ? "Authentication required" : "Authentication failed");
        Assert.Contains(kind switch { "expired" => "expired", "other-device" => "not for device alice", "missing" => "token", _ => "not valid" }, error);
        var (status, _) = await client.ExpectCloseAsync();
        Assert.Equal(4003, (int)status!);
        await using var db = _database.OpenContext();
        Assert.Equal(0, await db.Connections.CountAsync(c => c.DeviceId == "alice"));
        Assert.Equal(0, await db.Devices.CountAsync(d => d.DeviceId == "alice"));
    }

    [Fact]
    public async Task RoomClaim_OnlyTheNamedRoomsMayBeJoined()
    {
        await using var owner = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("owner")));
        await owner.ReceiveAsync();
        var allowed = (await owner.IdentifyAsync("owner")).GetProperty("room_id").GetString()!;
        await using var other = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("other")));
        await other.ReceiveAsync();
        var forbidden = (await other.IdentifyAsync("other")).GetProperty("room_id").GetString()!;

        await using var guest = await TestClient.ConnectAsync(_server);
        await guest.ReceiveAsync();
        await guest.SendObjectAsync(new { device_id = "guest", identity = "g", room_id = forbidden, token = Token("guest", allowed) });
        await guest.ExpectErrorAsync($"Not allowed: the token does not allow room {forbidden}");
        Assert.Equal(4003, (int)(await guest.ExpectCloseAsync()).Status!);

        await using var welcome = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("guest", allowed)));
        await welcome.ReceiveAsync();
        Assert.Equal(allowed, (await welcome.IdentifyAsync("guest", allowed)).GetProperty("room_id").GetString());
    }

    /// <summary>A backend that writes a device's rooms as a list writes [] for a device with none: that must allow none.</summary>
    [Theory]
    [InlineData("[]")]
    [InlineData("\"\"")]
    [InlineData("null")]
    public async Task RoomClaimPresentButNamingNoRoom_AllowsNoRoom(string claim)
    {
        await using var owner = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("owner-" + claim.Length)));
        await owner.ReceiveAsync();
        var existing = (await owner.IdentifyAsync("owner-" + claim.Length)).GetProperty("room_id").GetString()!;
        var token = WithPayload($$"""{"sub":"empty-claim","room":{{claim}},"exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""");

        foreach (var roomId in new[] { existing, null })
        {
            await using var client = await TestClient.ConnectAsync(_server);
            await client.ReceiveAsync();
            await client.SendObjectAsync(new { device_id = "empty-claim", identity = "e", room_id = roomId, token });
            await client.ExpectErrorAsync("Not allowed");
            Assert.Equal(4003, (int)(await client.ExpectCloseAsync()).Status!);
        }
    }

    [Fact]
    public async Task TokenExpiringAfterIdentify_ConnectionClosed4003WhenItExpires()
    {
        var expires = DateTime.UtcNow.AddSeconds(3);
        await using var client = await TestClient.ConnectAsync(_server);
        await client.ReceiveAsync();
        await client.SendObjectAsync(new { device_id = "short-lived", identity = "s", token = JwtDeviceAuthenticator.Mint(Settings, "short-lived", [], expires) });
        Assert.Equal("created_new", (await client.ReceiveAsync()).GetProperty("status").GetString());

        await client.ExpectErrorAsync("Authentication expired");
        var (status, reason) = await client.ExpectCloseAsync(TimeSpan.FromSeconds(15));

        Assert.Equal((4003, "Token expired"), ((int)status!, reason));
        Assert.True(DateTime.UtcNow >= expires.AddSeconds(-1), "closed when the token expired, not before");
    }

    /// <summary>A token valid for longer than a timer can wait (~49 days) is waited for in legs, not refused or broken.</summary>
    [Fact]
    public async Task TokenExpiringInAHundredDays_ConnectionServes()
    {
        await using var client = await TestClient.ConnectAsync(_server);
        await client.ReceiveAsync();
        await client.SendObjectAsync(new { device_id = "long-lived", identity = "l", token = JwtDeviceAuthenticator.Mint(Settings, "long-lived", [], DateTime.UtcNow.AddDays(100)) });
        Assert.Equal("created_new", (await client.ReceiveAsync()).GetProperty("status").GetString());

        Assert.Equal("room_info", (await client.QueryRoomAsync()).GetProperty("type").GetString());
    }

    /// <summary>An HS256 token with exactly this payload, signed with the test key.</summary>
    private static string WithPayload(string json)
    {
        static string Encode(byte[] bytes) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(bytes);
        var signed = Encode("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray()) + "." + Encode(System.Text.Encoding.UTF8.GetBytes(json));
        using var hmac = new System.Security.Cryptography.HMACSHA256(System.Text.Encoding.UTF8.GetBytes(Key));
        return signed + "." + Encode(hmac.ComputeHash(System.Text.Encoding.ASCII.GetBytes(signed)));
    }

    [Fact]
    public async Task Impostor_CannotReplaceTheRealDevice()
    {
        await using var alice = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("alice")));
        await alice.ReceiveAsync();
        await alice.IdentifyAsync("alice");
        await using var impostor = await TestClient.ConnectAsync(new Uri(_server.WebSocketUri() + "?access_token=" + Token("mallory")));
        await impostor.ReceiveAsync();

        await impostor.SendObjectAsync(new { device_id = "alice", identity = "fake" });

        await impostor.ExpectErrorAsync("Authentication failed");
        Assert.Equal(4003, (int)(await impostor.ExpectCloseAsync()).Status!);
        Assert.Equal(1, (await alice.QueryRoomAsync()).GetProperty("total_clients").GetInt32());
    }

    [Fact]
    public void TokenMode_WithAShortKey_RefusesToStart()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => RoomsHost.Build(["--Auth:Mode=Token", "--Auth:SigningKey=too-short"]));

        Assert.Contains("at least 32", refused.Message);
    }
}

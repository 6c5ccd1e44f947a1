using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Infrastructure.Auth;

/// <summary>
/// Device tokens: HS256 JWTs signed with the shared key; <c>sub</c> is the device id, an optional <c>room</c> claim
/// lists the only rooms the device may join, <c>exp</c> is honoured when present (at identify, and then the connection
/// is closed when it passes). Issuer and audience are not checked: the key is the trust.
/// <para>
/// The <c>room</c> claim fails closed: absent means any room; present, it allows exactly the rooms it names, so
/// <c>"R1"</c> one, <c>["R1","R2"]</c> two, and <c>[]</c>, <c>""</c> or <c>null</c> none.
/// </para>
/// </summary>
public sealed class JwtDeviceAuthenticator(AuthSettings settings) : IDeviceAuthenticator
{
    public const string RoomClaim = "room";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    private readonly TokenValidationParameters _parameters = new()
    {
        IssuerSigningKey = new SymmetricSecurityKey(settings.KeyBytes),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = true,
        RequireExpirationTime = false,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    public async Task<DeviceAuthorization> AuthorizeAsync(string? token, DeviceId deviceId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            return DeviceAuthorization.Refused("Authentication required: send a device token as 'token' in identify or as access_token in the URL");
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters);
        if (!result.IsValid)
        {
            return DeviceAuthorization.Refused(result.Exception is SecurityTokenExpiredException
                ? "Authentication failed: the token has expired"
                : "Authentication failed: the token is not valid");
        }

        var subject = result.ClaimsIdentity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
        if (subject != deviceId.Value)
        {
            return DeviceAuthorization.Refused($"Authentication failed: the token is not for device {deviceId}");
        }

        var expires = result.SecurityToken is JsonWebToken { ValidTo: var validTo } && validTo > DateTime.MinValue ? validTo : (DateTime?)null;
        return new DeviceAuthorization(null, AllowedRooms((JsonWebToken)result.SecurityToken), expires);
    }

    /// <summary>The rooms the token's <c>room</c> claim names; null when the token has no such claim (any room).</summary>
    private static HashSet<RoomId>? AllowedRooms(JsonWebToken token)
    {
        // Read from the payload itself: an empty array yields no claims at all, and must not read as "no claim".
        using var payload = System.Text.Json.JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        if (!payload.RootElement.TryGetProperty(RoomClaim, out var claim))
        {
            return null;
        }

        // A name that is not a room id can match no room.
        var rooms = new HashSet<RoomId>();
        var values = claim.ValueKind == System.Text.Json.JsonValueKind.Array ? claim.EnumerateArray().ToArray() : [claim];
        foreach (var value in values.Where(v => v.ValueKind == System.Text.Json.JsonValueKind.String && RoomId.IsValid(v.GetString())))
        {
            rooms.Add(new RoomId(value.GetString()!));
        }

        return rooms;
    }

    /// <summary>A token for <paramref name="deviceId"/>, as a backend would mint it (the host's <c>token</c> command).</summary>
    public static string Mint(AuthSettings settings, string deviceId, IReadOnlyCollection<string> rooms, DateTime expires)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(rooms);
        var claims = new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = deviceId };
        if (rooms.Count > 0)
        {
            claims[RoomClaim] = rooms.Count == 1 ? rooms.First() : rooms.ToArray();
        }

        var issuedAt = expires > DateTime.UtcNow ? DateTime.UtcNow : expires.AddMinutes(-1);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Expires = expires,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(settings.KeyBytes), SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>Authentication off: every device is allowed everywhere.</summary>
public sealed class OpenDeviceAuthenticator : IDeviceAuthenticator
{
    public Task<DeviceAuthorization> AuthorizeAsync(string? token, DeviceId deviceId, CancellationToken cancellationToken) =>
        Task.FromResult(DeviceAuthorization.Anyone);
}

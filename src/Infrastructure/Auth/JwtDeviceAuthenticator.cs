using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Rooms.Application.Ports;

namespace Rooms.Infrastructure.Auth;

/// <summary>
/// Device tokens: HS256 JWTs signed with the shared key; <c>sub</c> is the device id, an optional
/// <c>room</c> claim (a string or an array) lists the only rooms the device may join, <c>exp</c> is
/// honoured when present. Issuer and audience are not checked: the key is the trust.
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

    public async Task<DeviceAuthorization> AuthorizeAsync(string? token, string deviceId, CancellationToken cancellationToken)
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
        if (subject != deviceId)
        {
            return DeviceAuthorization.Refused($"Authentication failed: the token is not for device {deviceId}");
        }

        var rooms = result.ClaimsIdentity.FindAll(RoomClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new DeviceAuthorization(null, rooms.Count > 0 ? rooms : null);
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
    public Task<DeviceAuthorization> AuthorizeAsync(string? token, string deviceId, CancellationToken cancellationToken) =>
        Task.FromResult(DeviceAuthorization.Anyone);
}

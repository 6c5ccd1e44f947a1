using System.Text;

namespace Rooms.Infrastructure.Auth;

public enum AuthMode
{
    /// <summary>Any client may identify as any device (the seed protocol; the default).</summary>
    None,

    /// <summary>A device proves its <c>device_id</c> with an HS256 JWT signed with <see cref="AuthSettings.SigningKey"/>.</summary>
    Token,
}

/// <summary>The <c>Auth</c> configuration section.</summary>
public sealed class AuthSettings
{
    public const string SectionName = "Auth";

    /// <summary>HS256 needs a key of at least 256 bits.</summary>
    public const int MinimumKeyBytes = 32;

    public AuthMode Mode { get; set; } = AuthMode.None;

    /// <summary>The shared HS256 key, as text (its UTF-8 bytes); at least 32 bytes. The backend that mints tokens holds the same key.</summary>
    public string? SigningKey { get; set; }

    /// <summary>How long a token minted by the <c>token</c> command lives.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(24);

    public byte[] KeyBytes => Encoding.UTF8.GetBytes(SigningKey ?? string.Empty);

    public void Validate()
    {
        if (Mode == AuthMode.Token && KeyBytes.Length < MinimumKeyBytes)
        {
            throw new InvalidOperationException(
                $"Auth:Mode is Token but Auth:SigningKey is {KeyBytes.Length} bytes; HS256 needs at least {MinimumKeyBytes} (e.g. openssl rand -base64 48)");
        }

        if (TokenLifetime <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Auth:TokenLifetime must be positive");
        }
    }
}

using Rooms.Infrastructure.Auth;

namespace Rooms.WebSocketHost.Cli;

/// <summary>
/// <c>token DEVICE_ID [ROOM_ID...]</c>: prints a device token signed with the configured Auth:SigningKey,
/// valid for Auth:TokenLifetime, restricted to the rooms named (any room when none). What a backend does.
/// </summary>
public static class TokenCommand
{
    public const string Name = "token";

    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var positional = args.Skip(1).TakeWhile(a => !a.StartsWith('-')).ToArray();
        if (positional.Length == 0)
        {
            Console.Error.WriteLine("usage: token DEVICE_ID [ROOM_ID...]   (signs with Auth:SigningKey, e.g. Auth__SigningKey=...)");
            return 2;
        }

        var builder = RoomsHost.CreateBuilder(args.Skip(1 + positional.Length).ToArray());
        var auth = builder.Configuration.GetSection(AuthSettings.SectionName).Get<AuthSettings>() ?? new AuthSettings();
        if (auth.KeyBytes.Length < AuthSettings.MinimumKeyBytes)
        {
            Console.Error.WriteLine($"Auth:SigningKey must be set and at least {AuthSettings.MinimumKeyBytes} bytes to sign tokens.");
            return 1;
        }

        Console.WriteLine(JwtDeviceAuthenticator.Mint(auth, positional[0], positional[1..], DateTime.UtcNow + auth.TokenLifetime));
        return 0;
    }
}

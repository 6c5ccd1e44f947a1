namespace Rooms.WebSocketHost.Cli;

/// <summary>
/// The command line: no verb runs a node; <c>migrate</c> and <c>token</c> are the verbs; <c>--help</c> prints the
/// usage; any other word is refused with one line, so a typo never starts a node against the configured database.
/// Options (<c>--urls</c>, <c>--Section:Key=value</c>) are configuration, as everywhere in ASP.NET Core.
/// </summary>
public static class Usage
{
    public const string Text = """
        usage: Rooms.WebSocketHost [VERB] [--Section:Key=value ...]

        verbs:
          (none)                     run a node: serve WebSocket clients until SIGTERM
          migrate                    bring the database schema up to date, then exit
          token DEVICE_ID [ROOM...]  print a device token signed with Auth:SigningKey (any room when none named)
          help, --help, -h           print this text

        key settings (environment variables; or --Section:Key=value after the verb):
          ASPNETCORE_URLS            where to listen (default http://0.0.0.0:8765)
          ConnectionStrings__Rooms   the database (default: SQLite file data/rooms.db)
          Database__Provider         Sqlite or MySql (inferred from the connection string when unset)
          Database__MigrateOnStartup false on clusters: run 'migrate' as its own step
          Cluster__Redis             Redis (or Sentinel) address: several nodes share rooms through it
          Cluster__NodeId            this node's id (default: machine name and port)
          Auth__Mode, Auth__SigningKey   device tokens (Mode=Token)
          Admin__Key                 the key for /admin, /api and /metrics from other machines
          Rooms__...                 limits and timings (README, "Configuration")

        A list setting takes commas: Rooms__TrustedProxies=10.0.0.5,10.0.0.0/24.
        More: README.md and docs/operations.md.
        """;

    /// <summary>What the arguments ask for.</summary>
    public enum Verb
    {
        Run,
        Migrate,
        Token,
        Help,
        Unknown,
    }

    /// <summary>The verb is the first argument when it is not an option; --help anywhere asks for the usage.</summary>
    public static (Verb Verb, string? Word) Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(a => a is "--help" or "-h" or "-?" or "/?"))
        {
            return (Verb.Help, null);
        }

        if (args.Count == 0 || args[0].StartsWith('-'))
        {
            return (Verb.Run, null);
        }

        return args[0] switch
        {
            MigrateCommand.Name => (Verb.Migrate, null),
            TokenCommand.Name => (Verb.Token, null),
            "help" => (Verb.Help, null),
            var word => (Verb.Unknown, word),
        };
    }
}

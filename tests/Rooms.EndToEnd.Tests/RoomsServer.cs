using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Rooms.TestSupport;
using Rooms.WebSocketHost;

namespace Rooms.EndToEnd.Tests;

/// <summary>The real host (Kestrel, the whole pipeline, the real database) on a free loopback port.</summary>
public sealed class RoomsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RoomsServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    /// <summary>
    /// For tests about order and volume, not about the per-client limits: they send hundreds of frames at once, and
    /// reconnect, identify and create rooms from one address and device far more often than a real client would.
    /// </summary>
    public static readonly string[] Unthrottled =
    [
        "--Rooms:MessagesPerSecond=1000000", "--Rooms:MessageBurst=1000000",
        "--Rooms:InboundBytesPerSecond=1000000000", "--Rooms:InboundBurstBytes=1000000000",
        "--Rooms:InboundBytesPerSecondPerAddress=1000000000", "--Rooms:InboundBurstBytesPerAddress=1000000000",
        "--Rooms:IdentifiesPerMinutePerDevice=1000000", "--Rooms:UpgradesPerMinutePerIp=1000000",
        "--Rooms:RoomsCreatedPerMinutePerIp=1000000",
        "--Rooms:MaxUnidentifiedConnectionsPerIp=100000",
    ];

    public Uri BaseUri { get; }

    public Uri WebSocketUri(string path = "/") => new($"ws://{BaseUri.Authority}{path}");

    public IServiceProvider Services => _app.Services;

    public static Task<RoomsServer> StartAsync(TestDatabase database, params string[] extraArgs) => StartAsync(database, null, extraArgs);

    /// <param name="overrides">Registrations replaced after the server's own (a faulty part, for a test).</param>
    public static async Task<RoomsServer> StartAsync(TestDatabase database, Action<IServiceCollection>? overrides, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(database);
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--Database:Provider={database.Provider}",
            $"--ConnectionStrings:Rooms={database.ConnectionString}",
            $"--Database:MySqlServerVersion={database.Settings.MySqlServerVersion}",
            "--Serilog:MinimumLevel:Default=Warning",
            // Test classes start several servers on one database at once; production refuses that without Redis.
            "--Cluster:AllowSingleNodeOnSharedDatabase=true",
            .. extraArgs,
        ];
        var app = RoomsHost.Build(args, services =>
        {
            services.AddSingleton<Serilog.Core.ILogEventSink>(ServerErrorFile.Instance);
            overrides?.Invoke(services);
        });
        if (await app.StartServingAsync() != 0)
        {
            throw new InvalidOperationException("The server refused to start");
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RoomsServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// Every in-process server's Error lines, with their exceptions, appended to one file in the run's temp folder:
    /// test.sh prints it when a test fails (xunit does not show a server's console output).
    /// </summary>
    private sealed class ServerErrorFile : Serilog.Core.ILogEventSink
    {
        public static readonly ServerErrorFile Instance = new(Path.Combine(Path.GetTempPath(), "rooms-server-errors.log"));

        private readonly Lock _gate = new();
        private readonly string _path;

        private ServerErrorFile(string path) => _path = path;

        public void Emit(Serilog.Events.LogEvent logEvent)
        {
            if (logEvent.Level < Serilog.Events.LogEventLevel.Error)
            {
                return;
            }

            var source = logEvent.Properties.TryGetValue("SourceContext", out var context) ? context.ToString() : "-";
            var line = $"{logEvent.Timestamp:O} {logEvent.Level} {source}: {logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)}{Environment.NewLine}{logEvent.Exception}{Environment.NewLine}";
            lock (_gate)
            {
                File.AppendAllText(_path, line);
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// A TCP relay to a server on a port of its own, which can go down (its port then refuses connections, as a dead
/// server's does) and come back on the same port: every url of a client refusing for a while.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    private TcpRelay(IPEndPoint target) => _target = target;

    public int Port { get; private set; }

    public Uri Url => new($"ws://127.0.0.1:{Port}/");

    public static TcpRelay Start(Uri server)
    {
        var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, server.Port));
        relay.Up();
        return relay;
    }

    public void Up()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        var listener = _listener;
        _accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptTcpClientAsync();
                    var upstream = new TcpClient();
                    await upstream.ConnectAsync(_target);
                    lock (_open)
                    {
                        _open.AddRange([client, upstream]);
                    }

                    _ = PipeAsync(client, upstream);
                    _ = PipeAsync(upstream, client);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Down.
            }
        });
    }

    public async Task DownAsync()
    {
        _listener?.Stop();
        await _accepting;
        lock (_open)
        {
            foreach (var socket in _open)
            {
                if (socket.Client is { } open)
                {
                    open.LingerState = new LingerOption(true, 0);
                }

                socket.Dispose();
            }

            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync() => await DownAsync();

    private static async Task PipeAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            // One side went away.
        }

        from.Dispose();
        to.Dispose();
    }
}

using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace Rooms.Client;

/// <summary>How the client reaches a server (a WebSocket; tests pass a fake).</summary>
public interface IRoomsTransport
{
    /// <exception cref="RefusedUpgradeException">The server answered the upgrade with an HTTP status (503 and its Retry-After).</exception>
    Task<IRoomsConnection> ConnectAsync(Uri server, CancellationToken cancellationToken);
}

/// <summary>One open connection: text frames in and out.</summary>
public interface IRoomsConnection : IAsyncDisposable
{
    Task SendAsync(string text, CancellationToken cancellationToken);

    /// <returns>The next text frame, or null once the server closed the connection (see <see cref="CloseStatus"/>).</returns>
    Task<string?> ReceiveAsync(CancellationToken cancellationToken);

    int? CloseStatus { get; }

    string? CloseReason { get; }
}

/// <summary>The upgrade was answered with an HTTP status instead of a WebSocket.</summary>
public sealed class RefusedUpgradeException(HttpStatusCode status, TimeSpan? retryAfter, Exception inner)
    : Exception($"The server refused the upgrade: {(int)status}", inner)
{
    public HttpStatusCode Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary><see cref="ClientWebSocket"/> as the transport.</summary>
public sealed class ClientWebSocketTransport : IRoomsTransport
{
    public async Task<IRoomsConnection> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
            return new Connection(socket);
        }
        catch (WebSocketException ex) when (socket.HttpStatusCode is not 0 and not HttpStatusCode.SwitchingProtocols)
        {
            var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true
                && double.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            socket.Dispose();
            throw new RefusedUpgradeException(socket.HttpStatusCode, retryAfter, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Frames up to this size are read; a larger one closes the connection with 1009 (and the client asks for smaller
    /// catch-up pages). The server never sends one over 1 MiB; the margin keeps a client working against a server
    /// configured for larger frames.
    /// </summary>
    public const int MaxFrameBytes = 16 * 1024 * 1024;

    private const int InitialBuffer = 16 * 1024;

    private sealed class Connection(ClientWebSocket socket) : IRoomsConnection
    {
        private readonly SemaphoreSlim _writing = new(1, 1);
        private byte[] _buffer = new byte[InitialBuffer];
        private int? _closedBySelf;

        public int? CloseStatus => _closedBySelf ?? (int?)socket.CloseStatus;

        public string? CloseReason => socket.CloseStatusDescription;

        public async Task SendAsync(string text, CancellationToken cancellationToken)
        {
            await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writing.Release();
            }
        }

        public async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
        {
            var count = 0;
            while (true)
            {
                if (count == _buffer.Length)
                {
                    if (count >= MaxFrameBytes)
                    {
                        _closedBySelf = (int)WebSocketCloseStatus.MessageTooBig;
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                        await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "Frame too big", timeout.Token).ConfigureAwait(false);
                        _buffer = new byte[InitialBuffer];
                        return null;
                    }

                    Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxFrameBytes));
                }

                var result = await socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    var text = Encoding.UTF8.GetString(_buffer, 0, count);
                    if (_buffer.Length > 64 * InitialBuffer)
                    {
                        // One big frame (a history page) does not keep its buffer for the connection's life.
                        _buffer = new byte[InitialBuffer];
                    }

                    return text;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                socket.Abort();
            }

            socket.Dispose();
            _writing.Dispose();
        }
    }
}

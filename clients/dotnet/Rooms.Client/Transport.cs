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

    private sealed class Connection(ClientWebSocket socket) : IRoomsConnection
    {
        private readonly SemaphoreSlim _writing = new(1, 1);
        private byte[] _buffer = new byte[16 * 1024];

        public int? CloseStatus => (int?)socket.CloseStatus;

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
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var result = await socket.ReceiveAsync(_buffer.AsMemory(count), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                count += result.Count;
                if (result.EndOfMessage)
                {
                    return Encoding.UTF8.GetString(_buffer, 0, count);
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

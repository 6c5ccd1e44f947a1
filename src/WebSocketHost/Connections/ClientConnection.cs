using System.Net.WebSockets;
using System.Threading.Channels;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The sending side of one WebSocket: a bounded queue drained by a single writer, so two sends
/// never overlap on the socket and a client that stops reading cannot grow the server's memory.
/// </summary>
internal sealed partial class ClientConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _outgoing;
    private readonly TimeSpan _closeTimeout;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abort = new();
    private int _closeRequested;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = string.Empty;

    public ClientConnection(long id, WebSocket socket, int queueCapacity, TimeSpan closeTimeout, ILogger logger)
    {
        Id = id;
        _socket = socket;
        _closeTimeout = closeTimeout;
        _logger = logger;
        _outgoing = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _abort.Token.Register(static s => ((WebSocket)s!).Abort(), socket);
    }

    public long Id { get; }

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    /// <summary>Queues a frame. A full queue means the client is not reading: it is disconnected (1008).</summary>
    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        if (_outgoing.Writer.TryWrite(frame))
        {
            return true;
        }

        if (!IsClosing)
        {
            LogSlowConsumer(Id);
            RequestClose(WebSocketCloseStatus.PolicyViolation, "Slow consumer: send queue full");
        }

        return false;
    }

    /// <summary>Sends what is queued, then the close frame; aborts if the client does not finish the handshake in time.</summary>
    public void RequestClose(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = reason;
        _outgoing.Writer.TryComplete();
        _abort.CancelAfter(_closeTimeout);
    }

    /// <summary>The connection's only sender.</summary>
    public async Task RunWriterAsync()
    {
        try
        {
            await foreach (var frame in _outgoing.Reader.ReadAllAsync(_abort.Token))
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _abort.Token);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, _abort.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or was aborted; the receive loop notices and cleans up.
        }
    }

    public void Abort() => _abort.Cancel();

    public void Dispose() => _abort.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} disconnected: send queue full (slow consumer)")]
    private partial void LogSlowConsumer(long sessionId);
}

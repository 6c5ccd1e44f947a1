using System.Net.WebSockets;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// The sending side of one WebSocket: a bounded queue with at most one drain running, so two
/// sends never overlap on the socket and a client that stops reading cannot grow the server's
/// memory. The drain exists only while there is something to send: an idle connection holds no
/// writer task, no timer and no buffer, which is what lets one server keep many thousands open.
/// </summary>
internal sealed partial class ClientConnection : IDisposable
{
    private readonly WebSocket _socket;
    private readonly Queue<ReadOnlyMemory<byte>> _queue = new();
    private readonly int _capacity;
    private readonly TimeSpan _closeTimeout;
    private readonly ILogger _logger;

    // Guarded by _queue.
    private bool _draining;
    private bool _closeRequested;
    private bool _broken;
    private bool _overflowed;
    private WebSocketCloseStatus _closeStatus;
    private string _closeReason = string.Empty;
    private TaskCompletionSource? _closed;
    private Timer? _abortTimer;

    public ClientConnection(long id, WebSocket socket, int queueCapacity, TimeSpan closeTimeout, ILogger logger)
    {
        Id = id;
        _socket = socket;
        _capacity = queueCapacity;
        _closeTimeout = closeTimeout;
        _logger = logger;
    }

    public long Id { get; }

    /// <summary>The connection row id once the session identified (see <see cref="ConnectionRegistry.TrackGeneration"/>); 0 before.</summary>
    public long Generation { get; set; }

    /// <summary>Set once, when the session joins its room (see <see cref="ConnectionRegistry.Attach"/>).</summary>
    public ConnectionMembership? Membership { get; set; }

    /// <summary>Called once when this connection is dropped for not reading (for the server's counters).</summary>
    public Action? SlowConsumer { get; init; }

    /// <summary>Completes when the close frame is sent (or the socket failed); valid after <see cref="RequestClose"/>.</summary>
    public Task Closed
    {
        get
        {
            lock (_queue)
            {
                return _closed?.Task ?? Task.CompletedTask;
            }
        }
    }

    /// <summary>Queues a frame. A full queue means the client is not reading: it is disconnected (1008).</summary>
    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        var startDrain = false;
        var overflow = false;
        lock (_queue)
        {
            if (_closeRequested || _broken || _overflowed)
            {
                return false;
            }

            if (_queue.Count >= _capacity)
            {
                // Decided under the lock, so a connection is counted and closed once.
                _overflowed = overflow = true;
            }
            else
            {
                _queue.Enqueue(frame);
                startDrain = !_draining;
                _draining = true;
            }
        }

        if (startDrain)
        {
            _ = DrainAsync();
        }

        if (!overflow)
        {
            return true;
        }

        SlowConsumer?.Invoke();
        LogSlowConsumer(Id);
        RequestClose(WebSocketCloseStatus.PolicyViolation, "Slow consumer: send queue full");
        return false;
    }

    /// <summary>Sends what is queued, then the close frame; aborts if the client does not finish the handshake in time.</summary>
    public void RequestClose(WebSocketCloseStatus status, string reason)
    {
        bool startDrain;
        lock (_queue)
        {
            if (_closeRequested)
            {
                return;
            }

            _closeRequested = true;
            _closeStatus = status;
            _closeReason = reason;
            _closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_broken)
            {
                _closed.TrySetResult();
                return;
            }

            startDrain = !_draining;
            _draining = true;
            _abortTimer = new Timer(static s => ((WebSocket)s!).Abort(), _socket, _closeTimeout, Timeout.InfiniteTimeSpan);
        }

        if (startDrain)
        {
            _ = DrainAsync();
        }
    }

    public void Dispose()
    {
        lock (_queue)
        {
            _abortTimer?.Dispose();
        }
    }

    /// <summary>The only sender: runs while frames are queued, then stops (or sends the close frame and stops).</summary>
    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> frame;
                lock (_queue)
                {
                    if (!_queue.TryDequeue(out frame))
                    {
                        if (!_closeRequested)
                        {
                            _draining = false;
                            return;
                        }

                        break;
                    }
                }

                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, CancellationToken.None);
            }
        }
        catch (Exception)
        {
            // Nobody awaits this pump, so every failure ends here: the client went away or was
            // aborted, and the receive loop notices and cleans up.
            lock (_queue)
            {
                _broken = true;
                _queue.Clear();
            }
        }

        TaskCompletionSource? closed;
        lock (_queue)
        {
            closed = _closed;
        }

        closed?.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} disconnected: send queue full (slow consumer)")]
    private partial void LogSlowConsumer(long sessionId);
}

using System.Net.WebSockets;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>How much a connection may have waiting to be sent, and how long one send may make no progress.</summary>
internal readonly record struct SendQueueLimits(int Frames, int Bytes, TimeSpan SendStall);

/// <summary>
/// The sending side of one WebSocket: a queue bounded in frames and in bytes, with at most one drain running, so
/// two sends never overlap on the socket and a client that stops reading cannot grow the server's memory. A send
/// that makes no progress for <see cref="SendQueueLimits.SendStall"/> (the client's TCP window stays shut, so no
/// ping could even be written to it) drops the client too. The drain exists only while there is something to
/// send: an idle connection holds no writer task, no timer and no buffer, which is what lets one server keep many
/// thousands open.
/// </summary>
internal sealed partial class ClientConnection : IClientChannel, IDisposable
{
    /// <summary>Private close code of the protocol (docs/protocol.md): the client may not act as the device it named.</summary>
    public const WebSocketCloseStatus UnauthorizedCloseStatus = (WebSocketCloseStatus)4003;

    private readonly WebSocket _socket;
    private readonly Queue<Queued> _queue = new();
    private readonly SendQueueLimits _limits;
    private readonly TimeSpan _closeTimeout;
    private readonly ILogger _logger;

    // Guarded by _queue.
    private bool _draining;
    private long _queuedBytes;
    private bool _closeRequested;
    private bool _broken;
    private bool _overflowed;
    private int _reportedSlow;
    private WebSocketCloseStatus _closeStatus;
    private string _closeReason = string.Empty;
    private TaskCompletionSource? _closed;
    private Timer? _abortTimer;

    // Set by the stall watch's timer, read by the drain.
    private bool _stalled;

    public ClientConnection(long sessionId, WebSocket socket, SendQueueLimits limits, TimeSpan closeTimeout, ILogger logger)
    {
        SessionId = sessionId;
        _socket = socket;
        _limits = limits;
        _closeTimeout = closeTimeout;
        _logger = logger;
    }

    /// <summary>The node-local id of its session (logs, the registry); not the <see cref="ConnectionId"/>.</summary>
    public long SessionId { get; }

    /// <summary>The connection's id once the session identified (set by the <see cref="RoomHub"/>); none before.</summary>
    public ConnectionId ConnectionId { get; set; }

    /// <summary>Set once, when the session starts receiving its room (see <see cref="RoomHub.AttachAsync"/>).</summary>
    public ConnectionMembership? Membership { get; set; }

    /// <summary>Called once when this connection is dropped for not reading (for the server's counters).</summary>
    public Action? SlowConsumer { get; init; }

    /// <summary>Where big replies are counted (<see cref="TrySendReply"/>), and under which client address.</summary>
    public (ReplyBudget Budget, string Address)? Replies { get; init; }

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

    /// <summary>Queues a frame. A full queue (frames or bytes) means the client is not reading: it is disconnected (1008).</summary>
    public bool TrySend(ReadOnlyMemory<byte> frame) => Enqueue(frame, budgeted: false);

    /// <summary>
    /// Queues the reply to a request. A big one is counted in the <see cref="ReplyBudget"/> while it waits; false (nothing
    /// queued) when the budget has no room for it, and the caller tells the client to ask again later.
    /// </summary>
    public bool TrySendReply(ReadOnlyMemory<byte> frame)
    {
        if (Replies is not { } replies || frame.Length < ReplyBudget.BudgetedFrom)
        {
            TrySend(frame);
            return true;
        }

        if (!replies.Budget.TryReserve(replies.Address, frame.Length))
        {
            return false;
        }

        if (!Enqueue(frame, budgeted: true))
        {
            replies.Budget.Release(replies.Address, frame.Length);
        }

        return true;
    }

    private bool Enqueue(ReadOnlyMemory<byte> frame, bool budgeted)
    {
        var startDrain = false;
        var overflow = false;
        lock (_queue)
        {
            if (_closeRequested || _broken || _overflowed)
            {
                return false;
            }

            // One frame larger than the byte bound still goes when nothing waits before it, or it could never be sent.
            if (_queue.Count >= _limits.Frames || (_queue.Count > 0 && _queuedBytes + frame.Length > _limits.Bytes))
            {
                // Decided under the lock, so a connection is counted and closed once.
                _overflowed = overflow = true;
            }
            else
            {
                _queue.Enqueue(new Queued(frame, budgeted));
                _queuedBytes += frame.Length;
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

        ReportSlowConsumer();
        LogSlowConsumer(SessionId, _limits.Frames, _limits.Bytes);
        RequestClose(WebSocketCloseStatus.PolicyViolation, "Slow consumer: send queue full");
        return false;
    }

    public void SendRoomAssigned(RoomAssignedDto room) => TrySend(FrameWriter.Room(room));

    public void RefuseUnauthorized(string error) => CloseWithError(error, UnauthorizedCloseStatus, "Unauthorized");

    public void CloseForAbuse(string error) => CloseWithError(error, WebSocketCloseStatus.PolicyViolation, "Limit exceeded");

    /// <summary>Sends the error frame, then closes: the client reads why before the close.</summary>
    public void CloseWithError(string error, WebSocketCloseStatus status, string reason)
    {
        TrySend(FrameWriter.Error(error));
        RequestClose(status, reason);
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
        // Only a send that is pending arms the stall watch (its timer is made then, once per drain): a send the socket
        // takes at once, nearly every one, costs no timer and no cancellation registration.
        Timer? stallWatch = null;
        try
        {
            while (true)
            {
                Queued next;
                lock (_queue)
                {
                    if (!_queue.TryDequeue(out next))
                    {
                        if (!_closeRequested)
                        {
                            _draining = false;
                            return;
                        }

                        break;
                    }

                    _queuedBytes -= next.Frame.Length;
                }

                try
                {
                    var sending = _socket.SendAsync(next.Frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    if (sending.IsCompleted)
                    {
                        await sending;
                        continue;
                    }

                    // Aborting the socket fails the send under way; the receive loop then ends the connection and cleans up.
                    stallWatch ??= new Timer(static state => ((ClientConnection)state!).AbortStalled(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    stallWatch.Change(_limits.SendStall, Timeout.InfiniteTimeSpan);
                    try
                    {
                        await sending;
                    }
                    catch (Exception) when (Volatile.Read(ref _stalled))
                    {
                        ReportSlowConsumer();
                        LogSendStalled(SessionId, _limits.SendStall.TotalSeconds);
                        throw;
                    }

                    stallWatch.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                }
                finally
                {
                    ReleaseBudget(next);
                }
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
            Queued[] dropped;
            lock (_queue)
            {
                _broken = true;
                dropped = [.. _queue];
                _queue.Clear();
                _queuedBytes = 0;
            }

            foreach (var frame in dropped)
            {
                ReleaseBudget(frame);
            }
        }
        finally
        {
            if (stallWatch is not null)
            {
                await stallWatch.DisposeAsync();
            }
        }

        TaskCompletionSource? closed;
        lock (_queue)
        {
            closed = _closed;
        }

        closed?.TrySetResult();
    }

    private void ReleaseBudget(Queued frame)
    {
        if (frame.Budgeted && Replies is { } replies)
        {
            replies.Budget.Release(replies.Address, frame.Frame.Length);
        }
    }

    private readonly record struct Queued(ReadOnlyMemory<byte> Frame, bool Budgeted);

    /// <summary>A send made no progress for <see cref="SendQueueLimits.SendStall"/>: the client stopped reading.</summary>
    private void AbortStalled()
    {
        Volatile.Write(ref _stalled, true);
        _socket.Abort();
    }

    /// <summary>A full queue and then a stalled send are one slow consumer, counted once.</summary>
    private void ReportSlowConsumer()
    {
        if (Interlocked.Exchange(ref _reportedSlow, 1) == 0)
        {
            SlowConsumer?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} disconnected: send queue full, over {Frames} frames or {Bytes} bytes (slow consumer)")]
    private partial void LogSlowConsumer(long sessionId, int frames, int bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} dropped: a send made no progress for {Seconds} s (the client stopped reading)")]
    private partial void LogSendStalled(long sessionId, double seconds);
}

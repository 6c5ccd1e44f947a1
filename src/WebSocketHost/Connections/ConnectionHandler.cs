using System.Buffers;
using System.Net.WebSockets;
using System.Threading.RateLimiting;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Connections.Disconnect;
using Rooms.Application.Rooms.Identify;
using Rooms.Application.Sessions;
using Rooms.WebSocketHost.Frames;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// One accepted WebSocket from first frame to last: enforces the transport rules (size cap,
/// text only, identify deadline), translates frames into requests, and reports the end.
/// Frames of a connection are handled one at a time, which is what keeps per-sender order.
/// </summary>
internal sealed partial class ConnectionHandler(
    ConnectionRegistry registry,
    Admission admission,
    IMediator mediator,
    RoomsMetrics metrics,
    RoomsSettings settings,
    ILogger<ConnectionHandler> logger) : IDisposable
{
    private const int InitialReceiveBuffer = 4 * 1024;
    private const string BinaryRefused = "Binary frames are not supported: send JSON as text frames";

    // One token bucket per session, replenished by the limiter's single 100 ms timer (not a timer per
    // connection); a partition left idle with a full bucket is dropped by the limiter itself.
    private readonly PartitionedRateLimiter<long> _rateLimit = PartitionedRateLimiter.Create<long, long>(sessionId =>
        RateLimitPartition.GetTokenBucketLimiter(sessionId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.MessageBurst,
            TokensPerPeriod = settings.MessagesPerSecond >= 10 ? (settings.MessagesPerSecond + 9) / 10 : 1,
            ReplenishmentPeriod = settings.MessagesPerSecond >= 10 ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromSeconds(1.0 / settings.MessagesPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose() => _rateLimit.Dispose();

    public async Task HandleAsync(HttpContext context)
    {
        var clientIp = Admission.ClientIp(context);
        using var slot = await admission.TryAdmitAsync(context, clientIp);
        if (slot is null)
        {
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var accessToken = context.Request.Query["access_token"].ToString();
        var session = new ClientSession(registry.NextSessionId(), clientIp) { AccessToken = accessToken.Length > 0 ? accessToken : null };
        using var connection = new ClientConnection(session.Id, socket, new SendQueueLimits(settings.SendQueueCapacity, settings.SendQueueBytes, settings.KeepAliveTimeout), settings.CloseTimeout, logger)
        {
            SlowConsumer = registry.CountSlowConsumer,
        };
        registry.Add(connection);
        LogConnected(session.Id, clientIp);
        connection.TrySend(FrameWriter.Connected);

        var identifyDeadline = new Timer(_ =>
        {
            if (!session.IsIdentified)
            {
                LogIdentifyTimeout(session.Id, clientIp);
                connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Identify timeout");
            }
        }, null, settings.IdentifyTimeout, Timeout.InfiniteTimeSpan);

        var lingerForClientClose = false;
        try
        {
            await ReceiveLoopAsync(socket, connection, session, identifyDeadline);
        }
        catch (WebSocketException) when (socket.State == WebSocketState.Aborted && socket.CloseStatus is null && !context.RequestAborted.IsCancellationRequested)
        {
            // The socket itself refused a frame (invalid UTF-8): it sent its close (1007) and aborted. Ending
            // the request now would reset the TCP connection before the client read that close, so the
            // connection stays (after the cleanup below) until the client hangs up or the close timeout passes.
            lingerForClientClose = true;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client vanished without a close handshake, or the socket was aborted.
        }
        finally
        {
            await identifyDeadline.DisposeAsync();
            registry.Remove(connection);
            await mediator.Send(new DisconnectCommand(session), CancellationToken.None);
            connection.RequestClose(WebSocketCloseStatus.NormalClosure, string.Empty);
            await connection.Closed;
            LogClosed(session.Id, clientIp, socket.CloseStatus?.ToString() ?? "aborted", session.Member?.DeviceId ?? "-", session.RoomId ?? "-");
        }

        if (lingerForClientClose)
        {
            await WaitQuietlyAsync(settings.CloseTimeout, context.RequestAborted);
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, ClientConnection connection, ClientSession session, Timer identifyDeadline)
    {
        var awaitingIdentify = true;
        using var messageDeadline = new CancellationTokenSource();
        var rejections = new RejectionCount();

        // One misbehaving client must not flood the log: its first malformed frame is a warning, the rest
        // Debug; all are counted (rooms_errors{kind="invalid_frame"}).
        var malformedFrames = 0;
        while (true)
        {
            // Wait for the next frame without holding a buffer: an idle connection owns none.
            var header = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (header.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            Translation translation;
            ReceivedMessage message;
            messageDeadline.CancelAfter(settings.MessageReceiveTimeout);
            try
            {
                message = await ReceiveMessageAsync(socket, header, messageDeadline.Token);
            }
            catch (OperationCanceledException)
            {
                // A stalled or dribbling sender: the cancelled receive has aborted the socket.
                LogMessageTimeout(session.Id, settings.MessageReceiveTimeout.TotalSeconds);
                throw;
            }

            messageDeadline.TryReset();
            try
            {
                if (message.TooBig)
                {
                    LogTooBig(session.Id, settings.MaxMessageBytes);
                    metrics.Error("too_big", $"message over {settings.MaxMessageBytes} bytes: closed (1009)", session.Describe());
                    connection.RequestClose(WebSocketCloseStatus.MessageTooBig, "Message too big");
                    await DrainUntilCloseAsync(socket);
                    return;
                }

                if (!TryTakeToken(session, connection, ref rejections))
                {
                    continue;
                }

                translation = header.MessageType == WebSocketMessageType.Binary
                    ? Translation.Failed(BinaryRefused)
                    : FrameTranslator.Translate(message.Span, session);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(message.Buffer);
            }

            if (translation.Error is not null)
            {
                if (malformedFrames++ == 0)
                {
                    LogMalformed(session.Id, translation.Error);
                }
                else
                {
                    LogMalformedAgain(session.Id, translation.Error);
                }

                metrics.Error("invalid_frame", translation.Error, session.Describe());
            }

            var identifying = awaitingIdentify && translation.Request is IdentifyCommand;
            if (identifying)
            {
                // The deadline is the client's: its identify arrived, however long the server then takes to store it.
                identifyDeadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            var error = translation.Error ?? await translation.Dispatch!(mediator);
            if (error is not null)
            {
                if (translation.Error is null)
                {
                    metrics.Error("rejected", error, session.Describe());
                }

                connection.TrySend(FrameWriter.Error(error, translation.ClientId));
            }

            if (awaitingIdentify && session.IsIdentified)
            {
                // Frees the timer now rather than holding it for the connection's lifetime.
                awaitingIdentify = false;
                await identifyDeadline.DisposeAsync();
            }
            else if (identifying)
            {
                // The identify failed (bad fields, storage down): the client gets a full deadline for its next try.
                identifyDeadline.Change(settings.IdentifyTimeout, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>
    /// One token per frame, taken before the frame is parsed: a frame over the rate gets an error and is not
    /// handled (nothing stored); a connection that keeps sending over it is closed.
    /// </summary>
    private bool TryTakeToken(ClientSession session, ClientConnection connection, ref RejectionCount rejections)
    {
        using var lease = _rateLimit.AttemptAcquire(session.Id);
        if (lease.IsAcquired)
        {
            return true;
        }

        var now = Environment.TickCount64;
        if (now - rejections.WindowStartedAt > (long)RoomsSettings.RejectionWindow.TotalMilliseconds)
        {
            rejections = new RejectionCount(now, 0);
        }

        rejections.Count++;
        if (rejections.Count > settings.MaxRejectedMessages)
        {
            LogRateLimitClose(session.Id, session.ClientIp, settings.MessagesPerSecond);
            connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Rate limit exceeded");
        }
        else if (rejections.Count == 1)
        {
            // Once per window: an abusive client must not be able to flood the log either.
            LogRateLimited(session.Id, session.ClientIp, settings.MessagesPerSecond);
        }

        metrics.Error("rate_limited", "frame refused: over the rate limit", session.Describe());
        connection.TrySend(FrameWriter.Error(RateLimitedError(settings.MessagesPerSecond, settings.MessageBurst)));
        return false;
    }

    public static string RateLimitedError(int perSecond, int burst) =>
        $"Rate limit exceeded: at most {perSecond} messages per second (bursts of {burst}); this message was not handled";

    private record struct RejectionCount(long WindowStartedAt, int Count);

    /// <summary>Reads one whole message into pooled memory, growing it up to one byte past the size cap.</summary>
    private async Task<ReceivedMessage> ReceiveMessageAsync(WebSocket socket, ValueWebSocketReceiveResult header, CancellationToken deadline)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        var count = 0;
        var endOfMessage = header.EndOfMessage;
        while (!endOfMessage)
        {
            if (count == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, settings.MaxMessageBytes + 1));
                buffer.AsSpan(0, count).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            ValueWebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(count), deadline);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }

            count += result.Count;
            endOfMessage = result.EndOfMessage;
            if (count > settings.MaxMessageBytes)
            {
                return new ReceivedMessage(buffer, count, TooBig: true);
            }
        }

        return new ReceivedMessage(buffer, count, TooBig: false);
    }

    /// <summary>After closing for an oversized message, discard input until the client's close arrives (or the close timeout aborts).</summary>
    private static async Task DrainUntilCloseAsync(WebSocket socket)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(InitialReceiveBuffer);
        try
        {
            while ((await socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static async Task WaitQuietlyAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The client hung up.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} connected from {ClientIp}")]
    private partial void LogConnected(long sessionId, string clientIp);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} from {ClientIp} closed ({CloseStatus}): device {DeviceId}, room {RoomId}")]
    private partial void LogClosed(long sessionId, string clientIp, string closeStatus, string deviceId, string roomId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} did not identify in time")]
    private partial void LogIdentifyTimeout(long sessionId, string clientIp);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} sent a message over {MaxMessageBytes} bytes; closing (1009)")]
    private partial void LogTooBig(long sessionId, int maxMessageBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} did not complete a message within {Seconds} s; dropped")]
    private partial void LogMessageTimeout(long sessionId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} is over the rate limit of {PerSecond} messages/s; its excess frames are refused")]
    private partial void LogRateLimited(long sessionId, string clientIp, int perSecond);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} kept sending over {PerSecond} messages/s; closing (1008)")]
    private partial void LogRateLimitClose(long sessionId, string clientIp, int perSecond);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} sent a malformed frame: {Error} (further ones from it are logged at Debug and counted in metrics)")]
    private partial void LogMalformed(long sessionId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} sent a malformed frame: {Error}")]
    private partial void LogMalformedAgain(long sessionId, string error);

    private readonly record struct ReceivedMessage(byte[] Buffer, int Count, bool TooBig)
    {
        public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Count);
    }
}

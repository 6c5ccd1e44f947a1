using System.Buffers;
using System.Net.WebSockets;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Connections.Disconnect;
using Rooms.Application.Membership.Identify;
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
    ClientLimits limits,
    ReplyBudget replyBudget,
    IMediator mediator,
    Monitoring.DashboardFeed errors,
    RoomsSettings settings,
    ILogger<ConnectionHandler> logger)
{
    private const int InitialReceiveBuffer = 4 * 1024;
    private const string FrameFailed = "Internal error: the server could not handle this frame";
    private const string BinaryRefused = "Binary frames are not supported: send JSON as text frames";
    private const string ServerBusy = "Server busy: too many replies are waiting to be sent (to this address or in all); ask again in a few seconds";

    private readonly LogSampler _sampler = new();

    public async Task HandleAsync(HttpContext context)
    {
        var clientIp = Admission.ClientIp(context);
        using var slot = await admission.TryAdmitAsync(context, clientIp);
        if (slot is null)
        {
            return;
        }

        // A small kernel send buffer: a client that stops reading (and answering pings: ASP.NET counts any frame it
        // sends as alive) stalls the server's sends soon, so the send-stall watch drops it after KeepAliveTimeout,
        // instead of after the megabytes a default buffer would first absorb.
        if (context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } tcp)
        {
            tcp.SendBufferSize = RoomsSettings.SocketSendBufferBytes;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var accessToken = context.Request.Query["access_token"].ToString();
        using var connection = new ClientConnection(registry.NextSessionId(), socket, new SendQueueLimits(settings.SendQueueCapacity, settings.SendQueueBytes, settings.KeepAliveTimeout), settings.CloseTimeout, logger)
        {
            SlowConsumer = registry.CountSlowConsumer,
            Replies = (replyBudget, slot.Address.Narrow),
        };
        var session = new ClientSession(connection.SessionId, clientIp, connection) { AccessToken = accessToken.Length > 0 ? accessToken : null };
        registry.Add(connection);
        LogConnected(session.Id, clientIp);
        connection.TrySend(FrameWriter.Connected);

        var identifyDeadline = new IdentifyDeadline(settings.IdentifyTimeout, () =>
        {
            if (!session.IsIdentified)
            {
                if (_sampler.ShouldLog("identify-timeout", out var leftOut))
                {
                    LogIdentifyTimeout(session.Id, clientIp, leftOut);
                }

                // Its place among the unidentified is free at once, not after the close handshake (up to CloseTimeout).
                slot.LeavePool();
                connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Identify timeout");
            }
        });
        slot.Evict = () => connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Identify timeout: the server needed the slot");

        var lingerForClientClose = false;
        Timer? tokenExpiry = null;
        try
        {
            await ReceiveLoopAsync(socket, connection, session, identifyDeadline, slot, expires => tokenExpiry = CloseWhenExpired(connection, session, expires));
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
            identifyDeadline.Dispose();
            tokenExpiry?.Dispose();
            registry.Remove(connection);
            await mediator.Send(new DisconnectCommand(session), CancellationToken.None);
            connection.RequestClose(WebSocketCloseStatus.NormalClosure, string.Empty);
            await connection.Closed;
            LogClosed(session.Id, clientIp, socket.CloseStatus?.ToString() ?? "aborted", session.Member?.DeviceId.Value ?? "-", session.Room?.Value ?? "-");
        }

        if (lingerForClientClose)
        {
            await WaitQuietlyAsync(settings.CloseTimeout, context.RequestAborted);
        }
    }

    /// <summary>
    /// Handles one frame. An exception a handler did not expect (a bug) costs that frame an error and one log line,
    /// not the connection: the client's other frames and its room go on.
    /// </summary>
    private async Task<Outcome> DispatchAsync(Translation translation, ClientSession session)
    {
        try
        {
            return await translation.Type!.DispatchAsync(mediator, translation.Request!);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or WebSocketException))
        {
            LogFrameFailed(ex, session.Id, translation.Request!.GetType().Name);
            return new Outcome(FrameFailed, null);
        }
    }

    /// <summary>A device token's <c>exp</c> holds for the whole connection, not only at identify: when it passes, 4003.</summary>
    private Timer CloseWhenExpired(ClientConnection connection, ClientSession session, DateTime expires)
    {
        Timer? timer = null;
        timer = new Timer(_ =>
        {
            if (DateTime.UtcNow < expires)
            {
                // A timer waits at most ~49 days: a token that lives longer is waited for in legs.
                timer!.Change(UntilExpiry(expires), Timeout.InfiniteTimeSpan);
                return;
            }

            LogTokenExpired(session.Id, session.Member?.DeviceId.Value ?? "-");
            connection.CloseWithError(
                "Authentication expired: the device token's exp has passed; reconnect with a new token", ClientConnection.UnauthorizedCloseStatus, "Token expired");
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(UntilExpiry(expires), Timeout.InfiniteTimeSpan);
        return timer;
    }

    private static TimeSpan UntilExpiry(DateTime expires)
    {
        var left = expires - DateTime.UtcNow;
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left > MaxTimerLeg ? MaxTimerLeg : left;
    }

    private static readonly TimeSpan MaxTimerLeg = TimeSpan.FromDays(30);

    private async Task ReceiveLoopAsync(
        WebSocket socket, ClientConnection connection, ClientSession session, IdentifyDeadline identifyDeadline, Admission.Slot slot, Action<DateTime> onTokenSession)
    {
        var awaitingIdentify = true;
        var failedIdentifies = 0;
        using var messageDeadline = new CancellationTokenSource();
        var rejections = new RejectionCount();
        var budget = new InboundBudget(settings.MessagesPerSecond, settings.MessageBurst, settings.InboundBytesPerSecond, settings.InboundBurstBytes);

        // One misbehaving client must not flood the log: its first malformed frame is a warning, the rest
        // Debug; all are counted (rooms_errors{kind="invalid_frame"}).
        var malformedFrames = 0;
        while (true)
        {
            // Wait for the next frame without holding a buffer: an idle connection owns none. Not there yet means the
            // client has nothing waiting: what it sent while the server was busy has all been read.
            var next = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (!next.IsCompleted)
            {
                budget.CaughtUp();
            }

            var header = await next;
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
                    errors.Error("too_big", $"message over {settings.MaxMessageBytes} bytes: closed (1009)", session.Describe());
                    connection.RequestClose(WebSocketCloseStatus.MessageTooBig, "Message too big");
                    await DrainUntilCloseAsync(socket);
                    return;
                }

                if (!TryTakeToken(budget, message.Count, slot.Address, session, connection, ref rejections))
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
                // A client's first malformed frame is a warning (sampled across clients), the rest Debug; never the whole text.
                if (malformedFrames++ == 0 && _sampler.ShouldLog("malformed", out var leftOut))
                {
                    LogMalformed(session.Id, LogSampler.Shorten(translation.Error), leftOut);
                }
                else
                {
                    LogMalformedAgain(session.Id, LogSampler.Shorten(translation.Error));
                }

                errors.Error("invalid_frame", translation.Error, session.Describe());
            }

            var identifying = awaitingIdentify && translation.Request is IdentifyCommand;
            if (identifying)
            {
                // The deadline is the client's: it stands still while the server handles its identify (a stalled database),
                // and meanwhile the connection is not the one to evict.
                identifyDeadline.Pause();
                slot.Identifying = true;
            }

            var handling = System.Diagnostics.Stopwatch.GetTimestamp();
            var (error, reply) = translation.Error is { } invalid ? new Outcome(invalid, null) : await DispatchAsync(translation, session);
            budget.ServerBusy(System.Diagnostics.Stopwatch.GetElapsedTime(handling));
            if (reply is not null && !connection.TrySendReply(reply))
            {
                error ??= ServerBusy;
            }

            if (error is not null)
            {
                if (translation.Error is null)
                {
                    errors.Error("rejected", error, session.Describe());
                }

                connection.TrySend(FrameWriter.Error(error, translation.ClientId));
            }

            if (awaitingIdentify && session.IsIdentified)
            {
                // Frees the timer now rather than holding it for the connection's lifetime.
                awaitingIdentify = false;
                identifyDeadline.Dispose();
                slot.LeavePool();
                if (session.CredentialsExpireAt is { } expires)
                {
                    onTokenSession(expires);
                }
            }
            else if (identifying)
            {
                // A failed identify (bad fields, unknown room, refused token, storage down) does not renew the deadline,
                // which counts from the upgrade: failing every few seconds must not keep an unidentified connection forever.
                if (++failedIdentifies >= settings.MaxIdentifyAttempts)
                {
                    LogTooManyIdentifies(session.Id, session.ClientIp, failedIdentifies);
                    connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Too many failed identify attempts");
                }

                slot.Identifying = false;
                identifyDeadline.Resume();
            }
        }
    }

    /// <summary>
    /// One frame and its bytes from the budget, taken before the frame is parsed: a frame over the rate gets an error
    /// and is not handled (nothing stored); a connection that keeps sending over it is closed, and that is logged once.
    /// </summary>
    private bool TryTakeToken(InboundBudget budget, int bytes, AddressGroups.Keys address, ClientSession session, ClientConnection connection, ref RejectionCount rejections)
    {
        if (budget.TryTake(bytes) && limits.TryInbound(address, bytes))
        {
            return true;
        }

        if (rejections.Closing)
        {
            // Decided already: the close frame waits behind what is queued; nothing more to say or log.
            return false;
        }

        var now = Environment.TickCount64;
        if (now - rejections.WindowStartedAt > (long)RoomsSettings.RejectionWindow.TotalMilliseconds)
        {
            rejections = new RejectionCount(now, 0);
        }

        rejections.Count++;
        if (rejections.Count > settings.MaxRejectedMessages)
        {
            rejections.Closing = true;
            LogRateLimitClose(session.Id, session.ClientIp, settings.MessagesPerSecond);
            connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "Rate limit exceeded");
            return false;
        }
        else if (rejections.Count == 1)
        {
            // Once per window: an abusive client must not be able to flood the log either.
            LogRateLimited(session.Id, session.ClientIp, settings.MessagesPerSecond);
        }

        errors.Error("rate_limited", "frame refused: over the rate limit", session.Describe());
        connection.TrySend(FrameWriter.Error(RateLimitedError(settings.MessagesPerSecond, settings.MessageBurst, settings.InboundBytesPerSecond)));
        return false;
    }

    public static string RateLimitedError(int perSecond, int burst, int bytesPerSecond) =>
        $"Rate limit exceeded: at most {perSecond} messages per second (bursts of {burst}) and {bytesPerSecond} bytes per second; this message was not handled";

    private record struct RejectionCount(long WindowStartedAt, int Count)
    {
        public bool Closing { get; set; }
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} did not identify in time ({LeftOut} more not logged since the last line)")]
    private partial void LogIdentifyTimeout(long sessionId, string clientIp, int leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} sent a message over {MaxMessageBytes} bytes; closing (1009)")]
    private partial void LogTooBig(long sessionId, int maxMessageBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} did not complete a message within {Seconds} s; dropped")]
    private partial void LogMessageTimeout(long sessionId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} is over the rate limit of {PerSecond} messages/s; its excess frames are refused")]
    private partial void LogRateLimited(long sessionId, string clientIp, int perSecond);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} kept sending over {PerSecond} messages/s; closing (1008)")]
    private partial void LogRateLimitClose(long sessionId, string clientIp, int perSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId}: device {DeviceId}'s token expired; closing (4003)")]
    private partial void LogTokenExpired(long sessionId, string deviceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} from {ClientIp} failed to identify {Attempts} times; closing (1008)")]
    private partial void LogTooManyIdentifies(long sessionId, string clientIp, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} sent a malformed frame: {Error} (further ones from it are logged at Debug and counted in metrics; {LeftOut} other sessions' first ones not logged since the last line)")]
    private partial void LogMalformed(long sessionId, string error, int leftOut);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: handling a {Request} failed; the client was told, the connection stays")]
    private partial void LogFrameFailed(Exception exception, long sessionId, string request);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} sent a malformed frame: {Error}")]
    private partial void LogMalformedAgain(long sessionId, string error);

    private readonly record struct ReceivedMessage(byte[] Buffer, int Count, bool TooBig)
    {
        public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Count);
    }
}

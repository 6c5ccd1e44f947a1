using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;

namespace Rooms.Client;

/// <summary>Options of a <see cref="RoomsClient"/>.</summary>
public sealed record RoomsClientOptions
{
    /// <summary>Server addresses (nodes of one cluster); reconnects rotate through them.</summary>
    public required IReadOnlyList<Uri> Urls { get; init; }

    public required string DeviceId { get; init; }

    public required string Identity { get; init; }

    /// <summary>The room to join; null: the device's last room, or a new one.</summary>
    public string? RoomId { get; init; }

    /// <summary>A device token (Auth:Mode=Token).</summary>
    public string? Token { get; init; }

    /// <summary>Default: <see cref="MemoryStore"/>; a <see cref="FileStore"/> keeps exactly-once across restarts.</summary>
    public IRoomsStore? Store { get; init; }

    public IRoomsTransport? Transport { get; init; }

    /// <summary>The first reconnect delay's cap; doubles per attempt up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection that lasts this long resets the backoff.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Random numbers for the jitter (tests pass a seeded one).</summary>
    public Random? Random { get; init; }
}

/// <summary>
/// One device's connection to a room, kept alive: it reconnects (rotating through the urls, exponential backoff with
/// full jitter, a 503's Retry-After honoured), identifies into the same room again, catches up from the last message
/// it delivered, resends every unacknowledged message with the same id, and hands each message to the application
/// exactly once, in message_id order (docs/protocol.md). The background loop never throws: failures are events.
/// </summary>
public sealed class RoomsClient : IAsyncDisposable
{
    private const int FullCatchUpPage = 500;
    private const int SmallestCatchUpPage = 10;

    private readonly RoomsClientOptions _options;
    private readonly IRoomsStore _store;
    private readonly IRoomsTransport _transport;
    private readonly Random _random;
    private readonly Channel<RoomsEvent> _events = Channel.CreateUnbounded<RoomsEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _flushing = new(1, 1); // one writer of the outbox at a time: messages go out in send order
    private readonly Lock _gate = new();
    private readonly string _idPrefix;
    private readonly List<Outgoing> _outbox = [];
    private readonly List<Pending> _pending = [];
    private readonly List<JsonElement> _held = [];
    private readonly Dictionary<string, string> _members = new(StringComparer.Ordinal);
    private TaskCompletionSource<RoomJoin>? _joined;
    private IRoomsConnection? _connection;
    private Task? _loop;
    private string? _roomId;
    private BigInteger _lastId;
    private long _counter;
    private bool _catchingUp;
    private int _attempt;
    private int _urlIndex;
    private RoomsState _state;
    private int _catchUpPage = FullCatchUpPage; // halved after a frame too big for the transport (1009)
    private int _stalledPages; // catch-up pages in a row that did not move the cursor

    public RoomsClient(RoomsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Urls.Count == 0)
        {
            throw new ArgumentException("Urls must list at least one ws:// or wss:// address", nameof(options));
        }

        _options = options;
        _store = options.Store ?? new MemoryStore();
        _transport = options.Transport ?? new ClientWebSocketTransport();
        _random = options.Random ?? Random.Shared;
        _roomId = options.RoomId;

        // Ids unique per device for the server's 24-hour window: a random prefix per client object, then a counter.
        _idPrefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        if (_store.Load() is { } saved)
        {
            _lastId = BigInteger.Parse(saved.LastMessageId, CultureInfo.InvariantCulture);
            _roomId ??= saved.RoomId;
            _outbox.AddRange(saved.Outbox.Select(m => new Outgoing(m.Id, m.Content, m.To, null)));
        }
    }

    public RoomsState State => _state;

    public string? RoomId => _roomId;

    /// <summary>The room's other members (device id to identity), kept current from query_room and presence.</summary>
    public IReadOnlyDictionary<string, string> Members
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, string>(_members, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The message_id of the last message delivered to the application.</summary>
    public string? LastMessageId => _lastId.IsZero ? null : _lastId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts the connection; completes at the first identify (retrying meanwhile), fails when the device cannot join.</summary>
    public Task<RoomJoin> ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        _joined = new TaskCompletionSource<RoomJoin>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return _joined.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes once the server stored the message; throws <see cref="RoomsException"/> when it refused it. Resent until acknowledged.</summary>
    public async Task<SendAck> SendAsync(string content, string? to = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var entry = new Outgoing($"{_idPrefix}-{Interlocked.Increment(ref _counter)}", content, to,
            new TaskCompletionSource<SendAck>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool connected;
        lock (_gate)
        {
            _outbox.Add(entry);
            SaveLocked();
            connected = _state == RoomsState.Connected;
        }

        if (connected)
        {
            await FlushOutboxAsync().ConfigureAwait(false);
        }

        return await entry.Acked!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One page of the room's history, oldest first.</summary>
    public async Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var frame = new HistoryFrame("history", query.Limit, query.After, query.Before, query.Latest ? true : null);
        var page = await RequestAsync("history", System.Text.Json.JsonSerializer.Serialize(frame, ClientJson.Default.HistoryFrame), cancellationToken).ConfigureAwait(false);
        return new HistoryPage([.. page.GetProperty("messages").EnumerateArray().Select(ToMessage)], page.GetProperty("has_more").GetBoolean());
    }

    /// <summary>Asks who is in the room: the total and the members the server listed (capped in a big room); refreshes <see cref="Members"/>.</summary>
    public async Task<RoomInfo> QueryRoomAsync(CancellationToken cancellationToken = default)
    {
        var info = await RequestAsync("room_info", """{"type":"query_room"}""", cancellationToken).ConfigureAwait(false);
        return new RoomInfo(info.GetProperty("total_clients").GetInt32(), Members);
    }

    /// <summary>Tells the room this device is typing (nothing is stored; sent only while connected).</summary>
    public Task TypingAsync() => _state == RoomsState.Connected ? WriteAsync("""{"type":"typing"}""") : Task.CompletedTask;

    /// <summary>Messages, presence, state changes, acks of earlier clients' messages, errors; ends when the client is disposed.</summary>
    public IAsyncEnumerable<RoomsEvent> Events(CancellationToken cancellationToken = default) => _events.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Closes for good; unacknowledged messages stay in the store for a client made later with it.</summary>
    public async ValueTask DisposeAsync()
    {
        Stop(RoomsState.Closed, null, new RoomsException("closed before the server acknowledged the message"));
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    // ---- the connection loop ----

    private async Task RunAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var url = _options.Urls[_urlIndex % _options.Urls.Count];
            SetState(_attempt == 0 && _state == RoomsState.Idle ? RoomsState.Connecting : RoomsState.Reconnecting, null);
            TimeSpan? retryAfter = null;
            try
            {
                await using var connection = await _transport.ConnectAsync(url, _stopping.Token).ConfigureAwait(false);
                _connection = connection;
                using var stable = new Timer(_ => _attempt = 0, null, _options.StableAfter, Timeout.InfiniteTimeSpan);
                while (await connection.ReceiveAsync(_stopping.Token).ConfigureAwait(false) is { } text)
                {
                    await OnTextAsync(text).ConfigureAwait(false);
                }

                OnClosed(connection.CloseStatus, connection.CloseReason);
            }
            catch (StopException stop)
            {
                Stop(RoomsState.Closed, stop.Reason, stop.Error);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                retryAfter = (ex as RefusedUpgradeException)?.RetryAfter;
                try
                {
                    OnClosed(null, null);
                }
                catch (StopException stop)
                {
                    Stop(RoomsState.Closed, stop.Reason, stop.Error);
                    return;
                }
            }
            finally
            {
                _connection = null;
            }

            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _attempt++;
            _urlIndex++;
            SetState(RoomsState.Reconnecting, null);

            // Exponential backoff with full jitter: a fleet reconnecting after an outage spreads out.
            var cap = Math.Min(_options.MaxDelay.TotalMilliseconds, _options.InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt - 1, 20)));
            var delay = TimeSpan.FromMilliseconds(_random.NextDouble() * cap);
            if (retryAfter > delay)
            {
                delay = retryAfter.Value;
            }

            try
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void OnClosed(int? status, string? reason)
    {
        lock (_gate)
        {
            _catchingUp = false;
            _held.Clear();
            if (status == 1009)
            {
                // A frame larger than the transport reads: the next catch-up asks for smaller pages.
                _catchUpPage = Math.Max(SmallestCatchUpPage, _catchUpPage / 2);
            }

            foreach (var request in _pending)
            {
                request.Answer?.TrySetException(new RoomsException($"connection closed ({status})"));
            }

            _pending.Clear();
        }

        switch (status)
        {
            case 4001:
                throw new StopException("replaced", new RoomsException("replaced: another connection of this device took over (4001)"));
            case 4003:
                throw new StopException("unauthorized", new RoomsException($"authentication failed (4003{(string.IsNullOrEmpty(reason) ? string.Empty : ": " + reason)})"));
        }
    }

    private void Stop(RoomsState state, string? reason, Exception error)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        if (reason is not null)
        {
            _events.Writer.TryWrite(new ClientError(error));
        }

        _joined?.TrySetException(error);
        lock (_gate)
        {
            foreach (var entry in _outbox)
            {
                entry.Acked?.TrySetException(error);
            }

            foreach (var request in _pending)
            {
                request.Answer?.TrySetException(new RoomsException("closed"));
            }

            _pending.Clear();
        }

        SetState(state, reason);
        _events.Writer.TryComplete();
    }

    // ---- frames ----

    /// <summary>Handles one frame; a frame it cannot read is skipped and reported, and the connection goes on.</summary>
    private async Task OnTextAsync(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new RoomsException("frame skipped: not a JSON object");
            }

            await OnFrameAsync(document.RootElement.Clone()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or RoomsException)
        {
            _events.Writer.TryWrite(new ClientError(ex as RoomsException ?? new RoomsException($"frame skipped: {ex.Message}", ex)));
        }
    }

    private async Task OnFrameAsync(JsonElement frame)
    {
        switch (frame.GetProperty("type").GetString())
        {
            case "connection":
                await WriteAsync(JsonSerializer.Serialize(
                    new IdentifyFrame("identify", _options.DeviceId, _options.Identity, _roomId, _options.Token), ClientJson.Default.IdentifyFrame)).ConfigureAwait(false);
                break;
            case "room":
                await OnRoomAsync(frame).ConfigureAwait(false);
                break;
            case "message":
                CheckMessage(frame);
                lock (_gate)
                {
                    if (_catchingUp)
                    {
                        _held.Add(frame);
                        break;
                    }

                    DeliverLocked(frame, live: true);
                }

                break;
            case "ack":
                Settle(frame.GetProperty("id").GetString()!, frame);
                break;
            case "error":
                await OnErrorAsync(frame).ConfigureAwait(false);
                break;
            case "history":
                await OnHistoryAsync(frame).ConfigureAwait(false);
                break;
            case "room_info":
                lock (_gate)
                {
                    _members.Clear();
                    foreach (var client in frame.GetProperty("clients").EnumerateArray())
                    {
                        _members[client.GetProperty("device_id").GetString()!] = client.GetProperty("identity").GetString()!;
                    }
                }

                Answer("room_info", frame);
                break;
            case "presence":
                OnPresence(frame);
                break;
            case "typing":
                _events.Writer.TryWrite(new Typing(frame.GetProperty("device_id").GetString()!, frame.GetProperty("identity").GetString()!));
                break;
        }
    }

    private async Task OnRoomAsync(JsonElement frame)
    {
        var roomId = frame.GetProperty("room_id").GetString()!;
        var status = frame.GetProperty("status").GetString()!;
        if (status == "room_not_found")
        {
            throw new StopException("room_not_found", new RoomsException($"room_not_found: no room {roomId}"));
        }

        bool catchUp;
        lock (_gate)
        {
            _roomId = roomId;
            SaveLocked();
            catchUp = _catchingUp = !_lastId.IsZero;
            if (catchUp)
            {
                _pending.Add(new Pending("history", null));
            }

            _pending.Add(new Pending("room_info", null));
        }

        SetState(RoomsState.Connected, null);
        _joined?.TrySetResult(new RoomJoin(roomId, status));

        // Catch up from the last message delivered (live ones wait), resend what was never acked, learn the room.
        if (catchUp)
        {
            await WriteCatchUpRequestAsync().ConfigureAwait(false);
        }

        await FlushOutboxAsync().ConfigureAwait(false);
        await WriteAsync("""{"type":"query_room"}""").ConfigureAwait(false);
    }

    private Task WriteCatchUpRequestAsync() =>
        WriteAsync(JsonSerializer.Serialize(new HistoryFrame("history", _catchUpPage, _lastId.ToString(CultureInfo.InvariantCulture), null, null), ClientJson.Default.HistoryFrame));

    /// <summary>The next catch-up page after a pause that doubles while pages keep failing (1 s, 2 s, ... 30 s).</summary>
    private async Task WriteCatchUpRequestLaterAsync()
    {
        var connection = _connection;
        var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(Interlocked.Increment(ref _stalledPages) - 1, 5))));
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_gate)
        {
            if (!_catchingUp || connection != _connection)
            {
                return;
            }

            _pending.Add(new Pending("history", null));
        }

        await WriteCatchUpRequestAsync().ConfigureAwait(false);
    }

    private async Task OnHistoryAsync(JsonElement frame)
    {
        Pending? request;
        bool askMore = false, askLater = false;
        lock (_gate)
        {
            request = TakePendingLocked("history");

            if (request?.Answer is null && _catchingUp)
            {
                var before = _lastId;
                foreach (var message in frame.GetProperty("messages").EnumerateArray())
                {
                    try
                    {
                        CheckMessage(message);
                        DeliverLocked(message);
                    }
                    catch (RoomsException skipped)
                    {
                        _events.Writer.TryWrite(new ClientError(skipped));
                    }
                }

                if (frame.GetProperty("has_more").GetBoolean())
                {
                    // A page that moved nothing would be asked again at once, forever: wait, longer each time.
                    askMore = _lastId > before;
                    askLater = !askMore;
                    if (askMore)
                    {
                        _stalledPages = 0;
                        _pending.Add(new Pending("history", null));
                    }
                    else
                    {
                        _events.Writer.TryWrite(new ClientError(new RoomsException($"catch-up page after {before} brought nothing new; asking again later")));
                    }
                }
                else
                {
                    // Caught up: the live messages that came meanwhile follow (those the pages held are skipped by id).
                    _catchingUp = false;
                    _stalledPages = 0;
                    _catchUpPage = FullCatchUpPage;
                    foreach (var held in _held)
                    {
                        DeliverLocked(held);
                    }

                    _held.Clear();
                }
            }
        }

        request?.Answer?.TrySetResult(frame);
        if (askMore)
        {
            await WriteCatchUpRequestAsync().ConfigureAwait(false);
        }
        else if (askLater)
        {
            _ = WriteCatchUpRequestLaterAsync();
        }
    }

    private async Task OnErrorAsync(JsonElement frame)
    {
        var message = frame.GetProperty("message").GetString()!;
        if (frame.TryGetProperty("id", out var id) && Settle(id.GetString()!, frame))
        {
            return;
        }

        // An error without a message id answers the oldest request, if any (a refused page: a rate limit).
        Pending? request = null;
        lock (_gate)
        {
            if (_pending.Count > 0)
            {
                request = _pending[0];
                _pending.RemoveAt(0);
            }
        }

        if (request is { Answer: null, Type: "history" } && _catchingUp)
        {
            _ = WriteCatchUpRequestLaterAsync();
        }
        else if (request?.Answer is { } answer)
        {
            answer.TrySetException(new RoomsException(message));
        }
        else
        {
            _events.Writer.TryWrite(new ClientError(new RoomsException(message)));
        }
    }

    private void OnPresence(JsonElement frame)
    {
        var joins = new Dictionary<string, string>(StringComparer.Ordinal);
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        if (frame.TryGetProperty("event", out var single))
        {
            (single.GetString() == "joined" ? joins : leaves)[frame.GetProperty("device_id").GetString()!] = frame.GetProperty("identity").GetString()!;
        }
        else
        {
            foreach (var join in frame.GetProperty("joins").EnumerateObject())
            {
                joins[join.Name] = join.Value.GetString()!;
            }

            foreach (var leave in frame.GetProperty("leaves").EnumerateObject())
            {
                leaves[leave.Name] = leave.Value.GetString()!;
            }
        }

        joins.Remove(_options.DeviceId);
        lock (_gate)
        {
            foreach (var (device, identity) in joins)
            {
                _members[device] = identity;
            }

            foreach (var device in leaves.Keys)
            {
                _members.Remove(device);
            }
        }

        _events.Writer.TryWrite(new PresenceChanged(joins, leaves));
    }

    /// <summary>
    /// Hands a message to the application once: ids at or below the last delivered one were delivered. A live message
    /// below the cursor came out of order: it cannot be delivered in order any more, so it is reported, not dropped silently.
    /// </summary>
    private void DeliverLocked(JsonElement frame, bool live = false)
    {
        var id = BigInteger.Parse(frame.GetProperty("message_id").GetString()!, CultureInfo.InvariantCulture);
        if (id <= _lastId)
        {
            if (live && id < _lastId)
            {
                _events.Writer.TryWrite(new ClientError(new RoomsException($"message {id} arrived after {_lastId}: out of order, not delivered")));
            }

            return;
        }

        _lastId = id;
        SaveLocked();

        // Catch-up pages hold this device's own messages too; the application knows those from their acks.
        if (frame.GetProperty("from_device_id").GetString() != _options.DeviceId)
        {
            _events.Writer.TryWrite(ToMessage(frame));
        }
    }

    /// <returns>Whether the frame was about a message of the outbox.</returns>
    private bool Settle(string id, JsonElement frame)
    {
        Outgoing? entry;
        lock (_gate)
        {
            entry = _outbox.Find(e => e.Id == id);
            if (entry is null)
            {
                return false;
            }

            _outbox.Remove(entry);
            SaveLocked();
        }

        if (frame.GetProperty("type").GetString() == "ack")
        {
            var ack = new SendAck(frame.GetProperty("message_id").GetString()!, frame.GetProperty("recipients").GetInt32());
            if (entry.Acked is null)
            {
                _events.Writer.TryWrite(new Acked(id, ack.MessageId, ack.Recipients));
            }
            else
            {
                entry.Acked.TrySetResult(ack);
            }
        }
        else
        {
            var error = new RoomsException(frame.GetProperty("message").GetString()!, id);
            if (entry.Acked is null)
            {
                _events.Writer.TryWrite(new ClientError(error));
            }
            else
            {
                entry.Acked.TrySetException(error);
            }
        }

        return true;
    }

    private async Task<JsonElement> RequestAsync(string type, string frame, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_state != RoomsState.Connected)
            {
                throw new RoomsException($"not connected ({_state})");
            }

            _pending.Add(new Pending(type, answer));
        }

        await WriteAsync(frame).ConfigureAwait(false);
        return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Answer(string type, JsonElement frame)
    {
        Pending? request;
        lock (_gate)
        {
            request = TakePendingLocked(type);
        }

        request?.Answer?.TrySetResult(frame);
    }

    /// <summary>The oldest request waiting for a reply of this type, taken off the list (under the gate): replies come in order.</summary>
    private Pending? TakePendingLocked(string type)
    {
        var index = _pending.FindIndex(p => p.Type == type);
        if (index < 0)
        {
            return null;
        }

        var request = _pending[index];
        _pending.RemoveAt(index);
        return request;
    }

    /// <summary>
    /// Writes, in outbox order, every message not yet written on this connection. One flush at a time: a send made while
    /// the reconnect resends the outbox must not overtake the older messages (the server numbers messages in the order
    /// it receives them).
    /// </summary>
    private async Task FlushOutboxAsync()
    {
        await _flushing.WaitAsync().ConfigureAwait(false);
        try
        {
            var connection = _connection;
            while (connection is not null && connection == _connection)
            {
                Outgoing? next;
                lock (_gate)
                {
                    next = _outbox.Find(e => e.SentOn != connection);
                    if (next is not null)
                    {
                        next.SentOn = connection;
                    }
                }

                if (next is null)
                {
                    return;
                }

                await WriteMessageAsync(next).ConfigureAwait(false);
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    private Task WriteMessageAsync(Outgoing entry) =>
        WriteAsync(JsonSerializer.Serialize(new MessageFrame("message", entry.Content, entry.Id, entry.To), ClientJson.Default.MessageFrame));

    private async Task WriteAsync(string text)
    {
        if (_connection is not { } connection)
        {
            return;
        }

        try
        {
            await connection.SendAsync(text, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Closing: the outbox resends after the reconnect.
        }
    }

    private void SaveLocked()
    {
        try
        {
            _store.Save(new SavedState(_roomId, _lastId.ToString(CultureInfo.InvariantCulture), [.. _outbox.Select(e => new SavedMessage(e.Id, e.Content, e.To))]));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _events.Writer.TryWrite(new ClientError(ex));
        }
    }

    private void SetState(RoomsState state, string? reason)
    {
        if (_state == state && reason is null)
        {
            return;
        }

        _state = state;
        _events.Writer.TryWrite(new StateChanged(state, reason));
    }

    /// <summary>Throws (the frame is skipped and reported) unless the message has a valid id and its fields.</summary>
    private static void CheckMessage(JsonElement frame)
    {
        // The server's message ids are positive 64-bit integers: anything else is a broken frame, never a cursor.
        var id = frame.TryGetProperty("message_id", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
        if (id is null || id.Length is 0 or > 19 || id[0] == '0' || !id.All(char.IsAsciiDigit) || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new RoomsException($"message skipped: message_id {id ?? value.ToString()} is not a positive 64-bit integer");
        }

        foreach (var field in (string[])["content", "from_device_id", "message_type", "timestamp"])
        {
            if (!frame.TryGetProperty(field, out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new RoomsException($"message {id} skipped: no {field}");
            }
        }
    }

    private static RoomMessage ToMessage(JsonElement frame) => new(
        frame.GetProperty("message_id").GetString()!,
        frame.GetProperty("content").GetString()!,
        frame.GetProperty("from_device_id").GetString()!,
        frame.GetProperty("message_type").GetString()!,
        frame.GetProperty("timestamp").GetString()!);

    private sealed record Outgoing(string Id, string Content, string? To, TaskCompletionSource<SendAck>? Acked)
    {
        /// <summary>The connection it was last written to (guarded by the gate).</summary>
        public IRoomsConnection? SentOn { get; set; }
    }

    private sealed record Pending(string Type, TaskCompletionSource<JsonElement>? Answer);

    private sealed class StopException(string reason, Exception error) : Exception(error.Message)
    {
        public string Reason { get; } = reason;

        public Exception Error { get; } = error;
    }
}

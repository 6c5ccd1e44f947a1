using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Rooms.LoadTest;

/// <summary>
/// One device of the swarm: a real WebSocket that identifies like any client, sends what the
/// schedule hands it (one writer, so sends never overlap) and times every message it receives.
/// </summary>
internal sealed class SimulatedDevice : IAsyncDisposable
{
    private static readonly byte[] ContentMarker = "\"content\":\"t:"u8.ToArray();
    private static readonly byte[] ErrorMarker = "\"type\":\"error\""u8.ToArray();
    private static readonly byte[] PresenceMarker = "{\"type\":\"presence\""u8.ToArray();

    // One HTTP handler for all devices: a ClientWebSocket without one builds its own handler per connect,
    // which made the load tool, not the server, the busiest process of a 10 000-device storm.
    private static readonly HttpMessageInvoker SharedInvoker = new(new SocketsHttpHandler());

    // The same per client address, when devices connect from several (--sources): one handler per address.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<System.Net.IPAddress, HttpMessageInvoker> InvokersBySource = new();

    private readonly ClientWebSocket _socket = new() { Options = { CollectHttpResponseDetails = true } };
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(256);
    private Task _sendLoop = Task.CompletedTask;
    private long _sent;
    private Task _receiveLoop = Task.CompletedTask;

    private SimulatedDevice(string deviceId) => DeviceId = deviceId;

    public string DeviceId { get; }

    /// <summary>Messages carry a client id (<c>--ids</c>): the server stores it for exactly-once and acks each message.</summary>
    public static bool SendIds { get; set; }

    public string RoomId { get; private set; } = string.Empty;

    /// <summary>The room frame's status (created_new, joined_existing, reconnected).</summary>
    public string Status { get; private set; } = string.Empty;

    /// <summary>From sending identify to receiving the room frame.</summary>
    public TimeSpan IdentifyLatency { get; private set; }

    public static async Task<SimulatedDevice> ConnectAsync(Uri server, string deviceId, string? roomId, CancellationToken cancellationToken, System.Net.IPAddress? source = null)
    {
        var device = new SimulatedDevice(deviceId);
        try
        {
            await device._socket.ConnectAsync(server, source is null ? SharedInvoker : InvokersBySource.GetOrAdd(source, From), cancellationToken);
        }
        catch (WebSocketException refused) when (device._socket.HttpStatusCode is System.Net.HttpStatusCode.ServiceUnavailable)
        {
            var retryAfter = device._socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true
                && double.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
            device._socket.Dispose();
            throw new RefusedException(retryAfter, refused);
        }

        var buffer = new byte[4096];
        await device.ReceiveFrameAsync(buffer, cancellationToken); // {"type":"connection",...}
        var identify = roomId is null
            ? $$"""{"device_id":"{{deviceId}}","identity":"load"}"""
            : $$"""{"device_id":"{{deviceId}}","identity":"load","room_id":"{{roomId}}"}""";
        var sentAt = Stopwatch.GetTimestamp();
        await device._socket.SendAsync(Encoding.UTF8.GetBytes(identify), WebSocketMessageType.Text, true, cancellationToken);
        using var room = JsonDocument.Parse(buffer.AsMemory(0, await device.ReceiveFrameAsync(buffer, cancellationToken)));
        device.IdentifyLatency = Stopwatch.GetElapsedTime(sentAt);
        var status = room.RootElement.GetProperty("status").GetString();
        device.Status = status ?? string.Empty;
        if (status is not ("created_new" or "joined_existing" or "reconnected"))
        {
            throw new InvalidOperationException($"{deviceId} could not join {roomId}: {status}");
        }

        device.RoomId = room.RootElement.GetProperty("room_id").GetString()!;
        return device;
    }

    /// <summary>
    /// Connects as the client libraries do after losing their node: on a refused upgrade (503) or a failed connect it
    /// waits a random delay below a cap that doubles from 250 ms (full jitter; at least the 503's Retry-After) and tries again.
    /// </summary>
    /// <returns>The device and how many attempts it took.</returns>
    public static async Task<(SimulatedDevice Device, int Attempts)> ConnectWithBackoffAsync(
        Uri server, string deviceId, System.Net.IPAddress? source, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            try
            {
                return (await ConnectAsync(server, deviceId, null, cancellationToken, source), attempt);
            }
            catch (RefusedException refused)
            {
                retryAfter = refused.RetryAfter;
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or System.Net.Sockets.SocketException && attempt < 50)
            {
                // Reset or refused by the kernel (a full accept queue): the same backoff.
            }

            var cap = Math.Min(30_000, 250 * Math.Pow(2, Math.Min(attempt - 1, 20)));
            var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * cap);
            await Task.Delay(retryAfter > delay ? retryAfter.Value : delay, cancellationToken);
        }
    }

    private static HttpMessageInvoker From(System.Net.IPAddress source) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            socket.Bind(new System.Net.IPEndPoint(source, 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    });

    /// <summary>The server answered the upgrade with 503 (a limit), and when to try again.</summary>
    private sealed class RefusedException(TimeSpan? retryAfter, Exception inner) : Exception("503", inner)
    {
        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    /// <summary>Starts the writer and the reader; deliveries are counted into <paramref name="stats"/>.</summary>
    public void Start(Func<int, StepStats?> stats)
    {
        _sendLoop = Task.Run(SendLoopAsync);
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(stats));
    }

    public void Enqueue(Outgoing message) => _outgoing.Writer.TryWrite(message);

    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        await _sendLoop;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            await _receiveLoop.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException)
        {
            _socket.Abort();
        }

        _socket.Dispose();
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var message in _outgoing.Reader.ReadAllAsync())
            {
                _sendBuffer.ResetWrittenCount();
                Write(message);
                await _socket.SendAsync(_sendBuffer.WrittenMemory, WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // The server closed us; the receive loop records it.
        }
    }

    /// <summary>{"type":"message","content":"t:STEP:TICKS:padding"[,"target_device_id":"X"][,"id":"DEVICE-N"]} — the intended send time rides in the content.</summary>
    private void Write(Outgoing message)
    {
        Append("{\"type\":\"message\",\"content\":\"t:"u8);
        AppendNumber(message.Step);
        Append(":"u8);
        AppendNumber(message.IntendedTimestamp);
        Append(":"u8);
        var padding = _sendBuffer.GetSpan(message.Padding);
        padding[..message.Padding].Fill((byte)'x');
        _sendBuffer.Advance(message.Padding);
        Append("\""u8);
        if (message.TargetDeviceId is { } target)
        {
            Append(",\"target_device_id\":\""u8);
            _sendBuffer.Write(Encoding.ASCII.GetBytes(target));
            Append("\""u8);
        }

        if (SendIds)
        {
            Append(",\"id\":\""u8);
            _sendBuffer.Write(Encoding.ASCII.GetBytes(DeviceId));
            Append("-"u8);
            AppendNumber(++_sent);
            Append("\""u8);
        }

        Append("}"u8);
    }

    private void Append(ReadOnlySpan<byte> bytes) => _sendBuffer.Write(bytes);

    private void AppendNumber(long value)
    {
        Utf8Formatter.TryFormat(value, _sendBuffer.GetSpan(20), out var written);
        _sendBuffer.Advance(written);
    }

    private async Task ReceiveLoopAsync(Func<int, StepStats?> stats)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = await ReceiveFrameAsync(buffer, CancellationToken.None);
                if (length < 0)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                var frame = buffer.AsSpan(0, length);
                if (frame.StartsWith(PresenceMarker))
                {
                    LoadStatsHub.RecordPresence(_lastFrameBytes);
                    continue;
                }

                var at = frame.IndexOf(ContentMarker);
                if (at >= 0)
                {
                    var rest = frame[(at + ContentMarker.Length)..];
                    Utf8Parser.TryParse(rest, out int step, out var consumed);
                    Utf8Parser.TryParse(rest[(consumed + 1)..], out long intended, out _);
                    stats(step)?.RecordDelivery(now - intended);
                }
                else if (frame.IndexOf(ErrorMarker) >= 0)
                {
                    LoadStatsHub.RecordError(Encoding.UTF8.GetString(frame));
                }
            }
        }
        catch (WebSocketException)
        {
            LoadStatsHub.RecordDisconnect(DeviceId, _socket.CloseStatus);
        }
    }

    private long _lastFrameBytes;

    /// <returns>
    /// The frame's length, or -1 when the server closed the connection. A frame longer than the buffer (a big room's
    /// presence frame) keeps its start; its full size is in <see cref="_lastFrameBytes"/>.
    /// </returns>
    private async Task<int> ReceiveFrameAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var count = 0;
        long total = 0;
        while (true)
        {
            var into = count < buffer.Length ? buffer.AsMemory(count) : buffer.AsMemory(buffer.Length - 4096);
            var result = await _socket.ReceiveAsync(into, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                LoadStatsHub.RecordDisconnect(DeviceId, _socket.CloseStatus);
                return -1;
            }

            total += result.Count;
            count = Math.Min(buffer.Length, count + result.Count);
            if (result.EndOfMessage)
            {
                _lastFrameBytes = total;
                return count;
            }
        }
    }
}

internal readonly record struct Outgoing(int Step, long IntendedTimestamp, string? TargetDeviceId, int Padding);

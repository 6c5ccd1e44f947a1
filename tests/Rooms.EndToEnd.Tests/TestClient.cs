using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Rooms.EndToEnd.Tests;

/// <summary>A real <see cref="ClientWebSocket"/> speaking the protocol, as a device would.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[2 * 1024 * 1024];

    /// <summary>
    /// Acts as a seed-protocol client, which ignores message types it does not know: <c>presence</c>
    /// frames are skipped. The seed suite runs this way, against a server with presence events on.
    /// </summary>
    public bool IgnoresPresence { get; set; }

    public static Task<TestClient> ConnectAsync(RoomsServer server, string path = "/")
    {
        ArgumentNullException.ThrowIfNull(server);
        return ConnectAsync(server.WebSocketUri(path));
    }

    public static async Task<TestClient> ConnectAsync(Uri uri, string? forwardedFor = null)
    {
        var client = new TestClient();
        if (forwardedFor is not null)
        {
            client._socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        await client._socket.ConnectAsync(uri, CancellationToken.None);
        return client;
    }

    /// <summary>
    /// Tries an upgrade from <paramref name="localAddress"/> (any address of the loopback range works on Linux), as a
    /// proxy on that address would, and returns the HTTP status it got; on 101 the connected client, else null.
    /// </summary>
    public static async Task<(System.Net.HttpStatusCode Status, TestClient? Client)> TryConnectFromAsync(
        Uri uri, System.Net.IPAddress localAddress, string? forwardedFor, int? receiveBufferBytes = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new System.Net.IPEndPoint(localAddress, 0));
                if (receiveBufferBytes is { } bytes)
                {
                    // Set before connecting, so the window the client advertises stays this small.
                    socket.ReceiveBufferSize = bytes;
                }

                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new TestClient();
        client._socket.Options.CollectHttpResponseDetails = true;
        if (forwardedFor is not null)
        {
            client._socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        try
        {
            await client._socket.ConnectAsync(uri, new HttpMessageInvoker(handler), CancellationToken.None);
            return (client._socket.HttpStatusCode, client);
        }
        catch (WebSocketException)
        {
            var status = client._socket.HttpStatusCode;
            await client.DisposeAsync();
            return (status, null);
        }
    }

    /// <summary>Tries an upgrade and returns the HTTP status it got (101 when it became a WebSocket, then closed again).</summary>
    public static async Task<System.Net.HttpStatusCode> TryConnectAsync(Uri uri, string? origin = null, string? forwardedFor = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null)
        {
            socket.Options.SetRequestHeader("Origin", origin);
        }

        if (forwardedFor is not null)
        {
            socket.Options.SetRequestHeader("X-Forwarded-For", forwardedFor);
        }

        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "probe", CancellationToken.None);
        }
        catch (WebSocketException)
        {
            // Refused: the status says why.
        }

        return socket.HttpStatusCode;
    }

    /// <summary>Connects, checks the connection frame, identifies and returns the client with its <c>room</c> answer.</summary>
    public static async Task<(TestClient Client, JsonElement Room)> IdentifiedAsync(RoomsServer server, string deviceId, string? roomId = null, string? identity = null)
    {
        var client = await ConnectAsync(server);
        var connected = await client.ReceiveAsync();
        Assert.Equal("connection", connected.GetProperty("type").GetString());
        var room = await client.IdentifyAsync(deviceId, roomId, identity);
        return (client, room);
    }

    public async Task<JsonElement> IdentifyAsync(string deviceId, string? roomId = null, string? identity = null)
    {
        var identify = new Dictionary<string, string> { ["device_id"] = deviceId, ["identity"] = identity ?? deviceId + "_user" };
        if (roomId is not null)
        {
            identify["room_id"] = roomId;
        }

        await SendAsync(JsonSerializer.Serialize(identify));
        var room = await ReceiveAsync();
        Assert.True(room.GetProperty("type").GetString() == "room", $"expected a room frame, got {room}");
        return room;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type) =>
        await _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);

    /// <summary>The close status the server sent, once the connection is closed.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>One message split into <paramref name="fragments"/> WebSocket frames.</summary>
    public async Task SendFragmentsAsync(byte[] payload, WebSocketMessageType type, int fragments)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var size = Math.Max(1, (payload.Length + fragments - 1) / fragments);
        var offset = 0;
        do
        {
            var length = Math.Min(size, payload.Length - offset);
            offset += length;
            await _socket.SendAsync(payload.AsMemory(offset - length, length), type, endOfMessage: offset >= payload.Length, CancellationToken.None);
        }
        while (offset < payload.Length);
    }

    /// <summary>The start of a text message that is never finished.</summary>
    public async Task SendFragmentAsync(string text) =>
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);

    /// <summary>Reads until the server ends the connection, by a close frame or by dropping it.</summary>
    public async Task ExpectEndAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while ((await _socket.ReceiveAsync(_buffer, timeout.Token)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (WebSocketException)
        {
            // Dropped without a close frame: ended too.
        }
    }

    public Task SendObjectAsync(object message) => SendAsync(JsonSerializer.Serialize(message));

    public async Task<string> ReceiveTextAsync(TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        var count = 0;
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer.AsMemory(count), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"Connection closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                Assert.Equal(WebSocketMessageType.Text, result.MessageType);
                var text = Encoding.UTF8.GetString(_buffer, 0, count);
                if (IgnoresPresence && text.StartsWith("""{"type":"presence",""", StringComparison.Ordinal))
                {
                    count = 0;
                    continue;
                }

                return text;
            }
        }
    }

    public async Task<JsonElement> ReceiveAsync(TimeSpan? wait = null)
    {
        using var document = JsonDocument.Parse(await ReceiveTextAsync(wait));
        return document.RootElement.Clone();
    }

    /// <summary>Receives the next frame and checks it is an error whose message starts with <paramref name="prefix"/>.</summary>
    public async Task<string> ExpectErrorAsync(string prefix)
    {
        var frame = await ReceiveAsync();
        Assert.Equal("error", frame.GetProperty("type").GetString());
        var message = frame.GetProperty("message").GetString()!;
        Assert.StartsWith(prefix, message);
        return message;
    }

    /// <summary>Proves the connection is open and in order: a query_room gets its room_info next.</summary>
    public async Task<JsonElement> QueryRoomAsync()
    {
        await SendAsync("""{"type":"query_room"}""");
        var info = await ReceiveAsync();
        Assert.Equal("room_info", info.GetProperty("type").GetString());
        return info;
    }

    /// <summary>Sends a history request as given and returns the <c>history</c> answer.</summary>
    public async Task<JsonElement> SendHistoryAsync(object request)
    {
        await SendObjectAsync(request);
        var answer = await ReceiveAsync();
        Assert.Equal("history", answer.GetProperty("type").GetString());
        return answer;
    }

    /// <summary>Asks for history and returns the <c>history</c> answer.</summary>
    public async Task<JsonElement> HistoryAsync(string? afterMessageId, int? limit)
    {
        var request = new Dictionary<string, object> { ["type"] = "history" };
        if (afterMessageId is not null)
        {
            request["after_message_id"] = afterMessageId;
        }

        if (limit is not null)
        {
            request["limit"] = limit;
        }

        await SendObjectAsync(request);
        var answer = await ReceiveAsync();
        Assert.Equal("history", answer.GetProperty("type").GetString());
        return answer;
    }

    /// <summary>Waits for the server's close and returns its status (the close handshake is completed).</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Reason)> ExpectCloseAsync(TimeSpan? wait = null)
    {
        using var timeout = new CancellationTokenSource(wait ?? DefaultWait);
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (result.CloseStatus, result.CloseStatusDescription);
            }
        }
    }

    /// <summary>Asserts that nothing arrives within <paramref name="within"/>.</summary>
    public async Task ExpectSilenceAsync(TimeSpan within)
    {
        try
        {
            var text = await ReceiveTextAsync(within);
            Assert.Fail($"Expected no frame, got {text}");
        }
        catch (OperationCanceledException)
        {
            // Nothing arrived: what we wanted. The socket is aborted by the cancelled receive.
        }
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (WebSocketException)
        {
            // Already gone.
        }

        _socket.Dispose();
    }
}

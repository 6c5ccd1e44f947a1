using System.Collections.Concurrent;
using System.ComponentModel;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal sealed class BareServerSettings : CommandSettings
{
    [CommandOption("--port")]
    [Description("Port to listen on (127.0.0.1).")]
    [DefaultValue(8765)]
    public int Port { get; init; } = 8765;
}

/// <summary>
/// The baseline the Rooms server is measured against: the same frames over Kestrel WebSockets, with nothing
/// of what Rooms adds (no database, no validation, no ordering, no limits). Each message is serialized once
/// and queued to every other device of the room, each connection with its own writer, as Rooms does.
/// </summary>
internal sealed class BareServerCommand : AsyncCommand<BareServerSettings>
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Channel<byte[]>>> _rooms = new(StringComparer.Ordinal);
    private long _nextRoom;

    public override async Task<int> ExecuteAsync(CommandContext context, BareServerSettings settings, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{settings.Port}");
        var app = builder.Build();
        app.UseWebSockets();
        app.MapGet("/health/ready", () => "ok");
        app.Use((http, next) => http.WebSockets.IsWebSocketRequest ? ServeAsync(http) : next(http));
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    private async Task ServeAsync(HttpContext http)
    {
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var writer = Task.Run(async () =>
        {
            await foreach (var frame in outgoing.Reader.ReadAllAsync())
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, CancellationToken.None);
            }
        });
        outgoing.Writer.TryWrite("""{"type":"connection","status":"connected"}"""u8.ToArray());
        var buffer = new byte[64 * 1024];
        string? roomId = null, deviceId = null;
        try
        {
            while (true)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), CancellationToken.None);
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                using var frame = JsonDocument.Parse(buffer.AsMemory(0, count));
                var root = frame.RootElement;
                if (deviceId is null)
                {
                    deviceId = root.GetProperty("device_id").GetString()!;
                    var created = !root.TryGetProperty("room_id", out var requested);
                    roomId = created ? $"R{Interlocked.Increment(ref _nextRoom)}" : requested.GetString()!;
                    _rooms.GetOrAdd(roomId, _ => new(StringComparer.Ordinal))[deviceId] = outgoing;
                    outgoing.Writer.TryWrite(JsonSerializer.SerializeToUtf8Bytes(new { type = "room", room_id = roomId, status = created ? "created_new" : "joined_existing" }));
                    continue;
                }

                var content = root.GetProperty("content").GetString();
                var target = root.TryGetProperty("target_device_id", out var t) ? t.GetString() : null;
                var message = JsonSerializer.SerializeToUtf8Bytes(new { type = "message", content, from_device_id = deviceId, message_type = target is null ? "broadcast" : "direct" });
                foreach (var (member, queue) in _rooms[roomId!])
                {
                    if (target is null ? member != deviceId : member == target)
                    {
                        queue.Writer.TryWrite(message);
                    }
                }
            }
        }
        catch (WebSocketException)
        {
            // The client went away.
        }
        finally
        {
            if (roomId is not null)
            {
                _rooms[roomId].TryRemove(deviceId!, out _);
            }

            outgoing.Writer.TryComplete();
            await writer.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rooms.LoadTest;

internal sealed class HistorySettings : CommonSettings
{
    [CommandOption("--room")]
    [Description("The room to read (it must exist and hold messages).")]
    public string Room { get; init; } = string.Empty;

    [CommandOption("-n|--requests")]
    [DefaultValue(2000)]
    public int Requests { get; init; } = 2000;

    [CommandOption("--limit")]
    [DefaultValue(100)]
    public int Limit { get; init; } = 100;

    [CommandOption("--max-id")]
    [Description("Cursors are drawn at random from 0 to this id, so pages come from all over the table.")]
    [DefaultValue(0L)]
    public long MaxId { get; init; }
}

/// <summary>One device asks for history pages one after another from random cursors; reports latency per page.</summary>
internal sealed class HistoryCommand : AsyncCommand<HistorySettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, HistorySettings settings, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(settings.Servers[0], cancellationToken);
        var buffer = new byte[4 * 1024 * 1024];
        await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);
        await SendAsync(socket, $$"""{"device_id":"history-reader","identity":"load","room_id":"{{settings.Room}}"}""", cancellationToken);
        await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);

        var histogram = new LongHistogram(TimeStamp.Seconds(10), 3);
        var random = new Random(1);
        long messages = 0;
        for (var i = -100; i < settings.Requests; i++)
        {
            var cursor = settings.MaxId > 0 ? random.NextInt64(0, settings.MaxId) : 0;
            var started = Stopwatch.GetTimestamp();
            await SendAsync(socket, $$"""{"type":"history","after_message_id":"{{cursor}}","limit":{{settings.Limit}}}""", cancellationToken);
            var length = await Terminal.ReceiveFrameAsync(socket, buffer, cancellationToken);
            var elapsed = Stopwatch.GetTimestamp() - started;
            using var page = JsonDocument.Parse(buffer.AsMemory(0, length));
            if (page.RootElement.GetProperty("type").GetString() != "history")
            {
                throw new InvalidOperationException(Encoding.UTF8.GetString(buffer, 0, length));
            }

            // The first 100 warm the server up and are not counted.
            if (i >= 0)
            {
                histogram.RecordValue(elapsed);
                messages += page.RootElement.GetProperty("messages").GetArrayLength();
            }
        }

        double Ms(double percentile) => histogram.GetValueAtPercentile(percentile) * 1000.0 / Stopwatch.Frequency;
        var result = new
        {
            requests = settings.Requests,
            limit = settings.Limit,
            messages_per_page = Math.Round(messages / (double)settings.Requests, 1),
            p50_ms = Math.Round(Ms(50), 2),
            p99_ms = Math.Round(Ms(99), 2),
            max_ms = Math.Round(histogram.GetMaxValue() * 1000.0 / Stopwatch.Frequency, 2),
        };
        if (settings.Json)
        {
            System.Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            AnsiConsole.MarkupLine($"{result.requests} pages of up to {result.limit} ({result.messages_per_page} messages each): p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, max {result.max_ms} ms");
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
        return 0;
    }

    private static Task SendAsync(ClientWebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
}

using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// Thousands of random and mutated frames at a live server (CsCheck): random JSON, wrong types, huge and
/// empty strings, deep nesting, control characters, invalid UTF-8, binary and fragmented frames. Each one
/// gets its answer (an error, or what a valid frame gets) or a defined close; the server keeps serving,
/// stores only what was a valid message, and a pair of devices in another room talks on undisturbed.
/// </summary>
public sealed class FuzzTests : IAsyncLifetime
{
    private static readonly string[] Keys = ["type", "device_id", "identity", "room_id", "content", "target_device_id", "timestamp", "id", "after_message_id", "before_message_id", "latest", "limit", "token", "x", ""];
    private static readonly string[] Types = ["message", "query_room", "history", "typing", "identify", "dance", "", "MESSAGE"];

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database, RoomsServer.Unthrottled);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    /// <param name="Fragments">How many WebSocket frames the message is split into.</param>
    public sealed record Probe(byte[] Payload, WebSocketMessageType Type, int Fragments)
    {
        public override string ToString() => $"{Type} x{Fragments}: {Encoding.UTF8.GetString(Payload[..Math.Min(200, Payload.Length)])}";
    }

    [Fact]
    public async Task RandomAndMutatedFrames_EachAnsweredOrClosedAsDefined_ServerAndOthersUnaffected()
    {
        var (alice, room) = await TestClient.IdentifiedAsync(_server, "bystander-a");
        var (bob, _) = await TestClient.IdentifiedAsync(_server, "bystander-b", room.GetProperty("room_id").GetString());
        alice.IgnoresPresence = bob.IgnoresPresence = true;
        var fuzzer = await ConnectFuzzerAsync();
        var sentContents = new HashSet<string>(StringComparer.Ordinal);
        var probes = 0;

        await Check.SampleAsync(ProbeGen, async probe =>
        {
            RecordContentIfMessage(probe, sentContents);
            var sentinel = $"sentinel-{probes}";
            sentContents.Add(sentinel);
            var (closed, status) = await SendAndSettleAsync(fuzzer, probe, sentinel);
            var expected = ExpectedClose(probe);
            Assert.True(closed == (expected is not null), $"closed={closed} ({status}), expected {expected?.ToString() ?? "open"} for {probe}");
            if (closed)
            {
                Assert.Equal(expected, status);
                await fuzzer.DisposeAsync();
                fuzzer = await ConnectFuzzerAsync();
            }

            if (++probes % 100 == 0)
            {
                // The others talk on, undisturbed.
                await alice.SendObjectAsync(new { type = "message", content = $"still here {probes}" });
                Assert.Equal($"still here {probes}", (await bob.ReceiveAsync()).GetProperty("content").GetString());
            }
        }, iter: 2000, threads: 1);

        Assert.True(probes >= 2000);
        await fuzzer.DisposeAsync();
        await using var db = _database.OpenContext();
        var stored = await db.Messages.Where(m => m.FromDeviceId == "fuzzer").Select(m => m.MessageContent).ToListAsync();
        Assert.All(stored, content => Assert.Contains(content, sentContents));
        await using var late = await TestClient.ConnectAsync(_server);
        await late.ReceiveAsync();
        Assert.Equal("room", (await late.IdentifyAsync("after-the-storm")).GetProperty("type").GetString());
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    private async Task<TestClient> ConnectFuzzerAsync()
    {
        var (client, _) = await TestClient.IdentifiedAsync(_server, "fuzzer");
        client.IgnoresPresence = true;
        return client;
    }

    /// <summary>
    /// Sends the probe, then a message with a client id of its own; everything before that message's ack must be
    /// an answer the protocol defines.
    /// </summary>
    private static async Task<(bool Closed, WebSocketCloseStatus? Status)> SendAndSettleAsync(TestClient client, Probe probe, string sentinel)
    {
        try
        {
            await client.SendFragmentsAsync(probe.Payload, probe.Type, probe.Fragments);
            await client.SendObjectAsync(new { type = "message", content = sentinel, id = sentinel });
            while (true)
            {
                using var frame = JsonDocument.Parse(await client.ReceiveTextAsync());
                var type = frame.RootElement.GetProperty("type").GetString();
                Assert.Contains(type, (string[])["error", "ack", "history", "room_info", "room", "message", "typing", "typing_sent"]);
                if (type == "ack" && frame.RootElement.GetProperty("id").GetString() == sentinel)
                {
                    return (false, null);
                }
            }
        }
        catch (InvalidOperationException closed) when (closed.Message.StartsWith("Connection closed", StringComparison.Ordinal))
        {
            return (true, client.CloseStatus);
        }
        catch (WebSocketException)
        {
            return (true, client.CloseStatus);
        }
    }

    private static WebSocketCloseStatus? ExpectedClose(Probe probe)
    {
        if (probe.Payload.Length > 102_400)
        {
            return WebSocketCloseStatus.MessageTooBig;
        }

        return probe.Type == WebSocketMessageType.Text && !IsUtf8(probe.Payload) ? WebSocketCloseStatus.InvalidPayloadData : null;
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void RecordContentIfMessage(Probe probe, HashSet<string> contents)
    {
        try
        {
            using var json = JsonDocument.Parse(probe.Payload);
            foreach (var property in json.RootElement.EnumerateObject().Where(p => p.Name == "content" && p.Value.ValueKind == JsonValueKind.String))
            {
                contents.Add(property.Value.GetString()!);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Not a JSON object: nothing it carries may be stored.
        }
    }

    private static readonly Gen<string> AnyString = Gen.Frequency(
        (6, Gen.String[0, 40]),
        (2, Gen.Const(string.Empty)),
        (1, Gen.Int[16_000, 110_000].Select(n => new string('x', n))),
        (1, Gen.Char[(char)0, (char)31].Array[1, 5].Select(c => new string(c))),
        (1, Gen.Const("😀\u2028\"\\")));

    private static readonly Gen<string> Scalar = Gen.OneOf(
        AnyString.Select(s => JsonSerializer.Serialize(s)),
        Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf(Gen.Const("true"), Gen.Const("false"), Gen.Const("null")));

    private static readonly Gen<string> Value = Gen.Frequency(
        (6, Scalar),
        (1, Scalar.Array[0, 4].Select(a => "[" + string.Join(",", a) + "]")),
        (1, Gen.Int[1, 5000].Select(n => new string('[', n) + new string(']', n))),
        (1, Gen.Select(Gen.OneOf(Keys), Scalar, (k, v) => $"{{\"{k}\":{v}}}")));

    private static readonly Gen<string> Member = Gen.Frequency(
        (3, Gen.Select(Gen.OneOf(Keys), Value, (k, v) => $"\"{k}\":{v}")),
        (2, Gen.OneOf(Types).Select(t => $"\"type\":\"{t}\"")),
        (1, Gen.Select(Gen.String[0, 10], Value, (k, v) => $"{JsonSerializer.Serialize(k)}:{v}")));

    private static readonly Gen<string> ObjectText = Member.Array[0, 6].Select(m => "{" + string.Join(",", m) + "}");

    private static readonly Gen<string> ValidFrame = Gen.OneOf(
        """{"type":"message","content":"hello"}""",
        """{"type":"message","content":"hi","id":"c1"}""",
        """{"type":"message","content":"psst","target_device_id":"bystander-a"}""",
        """{"type":"query_room"}""",
        """{"type":"history","limit":3}""",
        """{"device_id":"fuzzer","identity":"again"}""");

    /// <summary>A valid frame with one byte changed, a cut, or stray bytes (invalid UTF-8 among them).</summary>
    private static readonly Gen<byte[]> Mutated = Gen.Select(ValidFrame, Gen.Int[0, 3], Gen.Int[0, 1000], Gen.Byte, (frame, how, at, b) =>
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        var i = at % bytes.Length;
        return how switch
        {
            0 => [.. bytes[..i], b, .. bytes[(i + 1)..]],
            1 => bytes[..i],
            2 => [.. bytes[..i], b, .. bytes[i..]],
            _ => [.. bytes[..i], 0xC3, 0x28, .. bytes[i..]],
        };
    });

    private static readonly Gen<byte[]> Payload = Gen.Frequency(
        (5, ObjectText.Select(Encoding.UTF8.GetBytes)),
        (2, Value.Select(Encoding.UTF8.GetBytes)),
        (3, Mutated),
        (1, Gen.Byte.Array[0, 64]),
        (1, ValidFrame.Select(Encoding.UTF8.GetBytes)));

    private static readonly Gen<Probe> ProbeGen = Gen.Select(
        Payload,
        Gen.Frequency((9, Gen.Const(WebSocketMessageType.Text)), (1, Gen.Const(WebSocketMessageType.Binary))),
        Gen.Frequency((4, Gen.Const(1)), (1, Gen.Int[2, 4])),
        (payload, type, fragments) => new Probe(payload, type, fragments));
}

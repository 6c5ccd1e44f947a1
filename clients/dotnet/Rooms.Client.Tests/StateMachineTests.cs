using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;

namespace Rooms.Client.Tests;

/// <summary>The client's state machine against a fake transport: merge and dedupe, outbox, backoff, Retry-After, stops.</summary>
public sealed class StateMachineTests
{
    [Fact]
    public async Task Reconnect_ResendsTheOutboxInOrder_AndCatchesUpExactlyOnceInOrder()
    {
        var network = new FakeNetwork();
        await using var client = Client(network);
        await client.ConnectAsync();
        var first = network.Last;
        first.ServerSends(Message(1));
        first.ServerSends(Message(2));
        var pending = new[] { client.SendAsync("one"), client.SendAsync("two") };
        await Until(() => first.Sent.Count(f => Type(f) == "message") == 2 && client.LastMessageId == "2");
        var ids = first.Sent.Where(f => Type(f) == "message").Select(f => f.GetProperty("id").GetString()).ToList();

        first.ServerCloses(1006);
        await Until(() => network.Sockets.Count == 2 && network.Last.Sent.Any(f => Type(f) == "history"));
        var again = network.Last;
        Assert.Equal("ws://b/", again.Url.ToString());
        Assert.Equal("R1", again.Sent[0].GetProperty("room_id").GetString());
        Assert.Equal(ids, again.Sent.Where(f => Type(f) == "message").Select(f => f.GetProperty("id").GetString()));
        Assert.Equal("2", again.Sent.First(f => Type(f) == "history").GetProperty("after_message_id").GetString());

        again.ServerSends(Message(5));
        again.ServerSends($$"""{"type":"history","room_id":"R1","has_more":true,"messages":[{{Message(3)}},{{Message(4, "alice")}}]}""");
        await Until(() => again.Sent.Where(f => Type(f) == "history").Last().GetProperty("after_message_id").GetString() == "4");
        again.ServerSends(Message(6));
        again.ServerSends($$"""{"type":"history","room_id":"R1","has_more":false,"messages":[{{Message(5)}}]}""");
        again.ServerSends(Message(7));
        again.ServerSends(Message(6));
        again.ServerSends($$"""{"type":"ack","id":"{{ids[0]}}","message_id":"3","recipients":1}""");
        again.ServerSends($$"""{"type":"ack","id":"{{ids[1]}}","message_id":"4","recipients":1}""");

        Assert.Equal(["3", "4"], (await Task.WhenAll(pending)).Select(a => a.MessageId));
        var delivered = new List<string>();
        await foreach (var e in client.Events())
        {
            if (e is RoomMessage m)
            {
                delivered.Add(m.MessageId);
                if (m.MessageId == "7")
                {
                    break;
                }
            }
        }

        Assert.Equal(["1", "2", "3", "5", "6", "7"], delivered);
    }

    [Theory]
    [InlineData(4001, "replaced")]
    [InlineData(4003, "unauthorized")]
    public async Task ReplacedOrRefused_StopsTheClient(int code, string reason)
    {
        var network = new FakeNetwork();
        await using var client = Client(network);
        await client.ConnectAsync();
        var send = client.SendAsync("never acked");
        network.Last.ServerCloses(code);

        await Assert.ThrowsAsync<RoomsException>(() => send);
        await Task.Delay(50);
        Assert.Single(network.Sockets);
        Assert.Equal(RoomsState.Closed, client.State);
        var states = new List<StateChanged>();
        await foreach (var e in client.Events())
        {
            if (e is StateChanged s)
            {
                states.Add(s);
            }
        }

        Assert.Equal(new StateChanged(RoomsState.Closed, reason), states[^1]);
    }

    [Fact]
    public async Task Backoff_HonoursRetryAfter_AndRotatesUrls()
    {
        var network = new FakeNetwork();
        network.Refusals.Enqueue(new RefusedUpgradeException(HttpStatusCode.ServiceUnavailable, TimeSpan.FromMilliseconds(300), new IOException()));
        await using var client = Client(network, initialDelay: TimeSpan.FromMilliseconds(1));
        var started = DateTime.UtcNow;
        await client.ConnectAsync();

        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(290), "the Retry-After was not waited for");
        Assert.Equal("ws://b/", network.Last.Url.ToString());
    }

    [Fact]
    public async Task TheStore_CarriesTheOutboxAndTheCursor_ToANewClient()
    {
        var store = new MemoryStore();
        var network = new FakeNetwork();
        var first = Client(network, store: store);
        await first.ConnectAsync();
        network.Last.ServerSends(Message(10));
        _ = first.SendAsync("lost in the crash");
        await Until(() => network.Last.Sent.Any(f => Type(f) == "message") && first.LastMessageId == "10");
        var unacked = network.Last.Sent.First(f => Type(f) == "message").GetProperty("id").GetString()!;

        var network2 = new FakeNetwork();
        await using var second = Client(network2, store: store);
        await second.ConnectAsync();
        await Until(() => network2.Last.Sent.Any(f => Type(f) == "history"));
        Assert.Equal([unacked], network2.Last.Sent.Where(f => Type(f) == "message").Select(f => f.GetProperty("id").GetString()));
        Assert.Equal("10", network2.Last.Sent.First(f => Type(f) == "history").GetProperty("after_message_id").GetString());
        network2.Last.ServerSends($$"""{"type":"ack","id":"{{unacked}}","message_id":"11","recipients":1}""");
        await foreach (var e in second.Events())
        {
            if (e is Acked acked)
            {
                Assert.Equal(new Acked(unacked, "11", 1), acked);
                break;
            }
        }

        Assert.Empty(store.Load()!.Outbox);
    }

    /// <summary>The chaos test saw a device's #41 stored before its #39 and #40: a send made while the reconnect resent the outbox overtook it.</summary>
    [Fact]
    public async Task ASendDuringTheOutboxResend_GoesAfterTheOlderMessages()
    {
        var store = new MemoryStore();
        store.Save(new SavedState("R1", "0", [new SavedMessage("old-1", "one", null), new SavedMessage("old-2", "two", null), new SavedMessage("old-3", "three", null)]));
        var network = new FakeNetwork { WriteDelay = TimeSpan.FromMilliseconds(30) };
        await using var client = Client(network, store: store);
        await client.ConnectAsync();
        _ = client.SendAsync("new");
        await Until(() => network.Last.Sent.Count(f => Type(f) == "message") == 4);

        Assert.Equal(["one", "two", "three", "new"], network.Last.Sent.Where(f => Type(f) == "message").Select(f => f.GetProperty("content").GetString()));
    }

    [Fact]
    public async Task HostileFrames_AreSkippedAndReported_AndTheMessagesAfterThemDelivered()
    {
        var network = new FakeNetwork();
        await using var client = Client(network);
        await client.ConnectAsync();
        foreach (var text in (string[])["null", "[1]", "5", "not json", """{"type":"message"}""", Message("99999999999999999999999"), Message("abc"),
            Message(" 7"), """{"type":"presence","room_id":"R1","joins":["a"],"leaves":null}""", Message(10), Message(11)])
        {
            network.Last.ServerSends(text);
        }

        var delivered = new List<string>();
        var errors = 0;
        await foreach (var e in client.Events())
        {
            errors += e is ClientError ? 1 : 0;
            if (e is RoomMessage m)
            {
                delivered.Add(m.MessageId);
                if (m.MessageId == "11")
                {
                    break;
                }
            }
        }

        Assert.Equal(["10", "11"], delivered);
        Assert.Equal(9, errors);
        Assert.Single(network.Sockets);
    }

    [Fact]
    public async Task ALiveMessageOutOfOrder_IsReportedNotSilentlyDropped()
    {
        var network = new FakeNetwork();
        await using var client = Client(network);
        await client.ConnectAsync();
        foreach (var id in (int[])[10, 10, 8, 11])
        {
            network.Last.ServerSends(Message(id));
        }

        var seen = new List<string>();
        await foreach (var e in client.Events())
        {
            if (e is RoomMessage m)
            {
                seen.Add(m.MessageId);
                if (m.MessageId == "11")
                {
                    break;
                }
            }
            else if (e is ClientError error)
            {
                seen.Add(error.Error.Message);
            }
        }

        Assert.Equal(["10", "message 8 arrived after 10: out of order, not delivered", "11"], seen);
    }

    [Fact]
    public async Task ACatchUpPageThatNeverMovesTheCursor_IsNotAskedAgainAtOnce()
    {
        var store = new MemoryStore();
        store.Save(new SavedState("R1", "5", []));
        var network = new FakeNetwork { AnswerHistory = $$"""{"type":"history","room_id":"R1","has_more":true,"messages":[{{Message(5)}}]}""" };
        await using var client = Client(network, store: store);
        await client.ConnectAsync();
        await Task.Delay(300);
        Assert.Equal(1, network.Last.Sent.Count(f => Type(f) == "history"));
    }

    [Fact]
    public async Task AfterAFrameTooBigForTheTransport_TheCatchUpAsksForSmallerPages()
    {
        var store = new MemoryStore();
        store.Save(new SavedState("R1", "5", []));
        var network = new FakeNetwork();
        await using var client = Client(network, store: store);
        await client.ConnectAsync();
        await Until(() => network.Last.Sent.Any(f => Type(f) == "history"));
        Assert.Equal(500, network.Last.Sent.First(f => Type(f) == "history").GetProperty("limit").GetInt32());
        network.Last.ServerCloses(1009);
        await Until(() => network.Sockets.Count == 2 && network.Last.Sent.Any(f => Type(f) == "history"));
        Assert.Equal(250, network.Last.Sent.First(f => Type(f) == "history").GetProperty("limit").GetInt32());
    }

    [Fact]
    public async Task TypingAndQueryRoom_SendTypingAndAnswerTheTotalAndTheListedMembers()
    {
        var network = new FakeNetwork { AnswerQueryRoom = """{"type":"room_info","room_id":"R1","total_clients":2,"clients":[{"device_id":"bob","identity":"Bob"}]}""" };
        await using var client = Client(network);
        await client.ConnectAsync();
        await client.TypingAsync();
        Assert.Contains(network.Last.Sent, f => Type(f) == "typing");
        var info = await client.QueryRoomAsync();
        Assert.Equal(2, info.TotalClients);
        Assert.Equal(new Dictionary<string, string> { ["bob"] = "Bob" }, info.Clients);
        Assert.Equal("PresenceChanged { Joins = { bob: Bob }, Leaves = {  } }", new PresenceChanged(info.Clients, new Dictionary<string, string>()).ToString());
    }

    private static RoomsClient Client(FakeNetwork network, IRoomsStore? store = null, TimeSpan? initialDelay = null) => new(new RoomsClientOptions
    {
        Urls = [new Uri("ws://a/"), new Uri("ws://b/")],
        DeviceId = "alice",
        Identity = "Alice",
        Transport = network,
        Store = store,
        InitialDelay = initialDelay ?? TimeSpan.FromMilliseconds(1),
        Random = new Random(1),
    });

    private static string Message(object id, string from = "bob") =>
        $$"""{"type":"message","content":"m{{id}}","from_device_id":"{{from}}","message_type":"broadcast","timestamp":"2026-11-30T00:00:00Z","message_id":"{{id}}"}""";

    private static string? Type(JsonElement frame) => frame.GetProperty("type").GetString();

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 400 && !condition(); i++)
        {
            await Task.Delay(5);
        }

        Assert.True(condition(), "timed out");
    }

    /// <summary>A scripted server: answers identify with a room frame; the test sends and closes the rest.</summary>
    private sealed class FakeNetwork : IRoomsTransport
    {
        public List<FakeConnection> Sockets { get; } = [];

        public ConcurrentQueue<Exception> Refusals { get; } = new();

        public FakeConnection Last => Sockets[^1];

        /// <summary>What the server answers every history request with (none: the test answers).</summary>
        public string? AnswerHistory { get; init; }

        public string? AnswerQueryRoom { get; init; }

        /// <summary>How long each write takes (a slow socket), which opens the window for a send to overtake a resend.</summary>
        public TimeSpan WriteDelay { get; init; }

        public Task<IRoomsConnection> ConnectAsync(Uri server, CancellationToken cancellationToken)
        {
            if (Refusals.TryDequeue(out var refusal))
            {
                throw refusal;
            }

            var connection = new FakeConnection(server, this);
            lock (Sockets)
            {
                Sockets.Add(connection);
            }

            return Task.FromResult<IRoomsConnection>(connection);
        }
    }

    private sealed class FakeConnection : IRoomsConnection
    {
        private readonly Channel<string?> _inbox = Channel.CreateUnbounded<string?>();
        private readonly FakeNetwork _network;

        public FakeConnection(Uri url, FakeNetwork network)
        {
            Url = url;
            _network = network;
            ServerSends("""{"type":"connection","message":"Connected successfully"}""");
        }

        public Uri Url { get; }

        public List<JsonElement> Sent { get; } = [];

        public int? CloseStatus { get; private set; }

        public string? CloseReason => null;

        public async Task SendAsync(string text, CancellationToken cancellationToken)
        {
            if (_network.WriteDelay > TimeSpan.Zero)
            {
                await Task.Delay(_network.WriteDelay, cancellationToken);
            }

            var frame = JsonDocument.Parse(text).RootElement.Clone();
            lock (Sent)
            {
                Sent.Add(frame);
            }

            if (Type(frame) == "identify")
            {
                var room = frame.TryGetProperty("room_id", out var r) ? r.GetString() : "R1";
                ServerSends($$"""{"type":"room","room_id":"{{room}}","status":"{{(room == "R1" && !frame.TryGetProperty("room_id", out _) ? "created_new" : "joined_existing")}}"}""");
            }
            else if (Type(frame) == "history" && _network.AnswerHistory is { } page)
            {
                ServerSends(page);
            }
            else if (Type(frame) == "query_room" && _network.AnswerQueryRoom is { } info)
            {
                ServerSends(info);
            }
        }

        public async Task<string?> ReceiveAsync(CancellationToken cancellationToken) => await _inbox.Reader.ReadAsync(cancellationToken);

        public void ServerSends(string frame) => _inbox.Writer.TryWrite(frame);

        public void ServerCloses(int code)
        {
            CloseStatus = code;
            _inbox.Writer.TryWrite(null);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

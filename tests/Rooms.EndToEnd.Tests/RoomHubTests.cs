using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.WebSocketHost.Connections;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The room hub alone (no Kestrel, no database, no Redis): connections over in-memory WebSockets, and nodes
/// joined by an in-memory bus that behaves as Redis pub/sub does for them (after SignalR's TestConnectionMultiplexer).
/// </summary>
public sealed class RoomHubTests : IDisposable
{
    private const string Room = "ROOM01";
    private readonly InMemoryBroker _broker = new();
    private readonly List<IDisposable> _owned = [];
    private long _nextSession;

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    [Fact]
    public async Task Committed_BroadcastToEveryoneButTheSender_DirectToItsTargetOnly()
    {
        var node = Node("node-a");
        var alice = await node.JoinAsync("alice");
        var bob = await node.JoinAsync("bob");
        var carol = await node.JoinAsync("carol");

        node.Hub.Committed(new NewMessage(new RoomId(Room), new DeviceId("alice"), null, MessageType.Broadcast, "hi all", Now, ClientTimestamp: "t-1"), new StoredMessage(new MessageId(1), new MessageId(0)));
        node.Hub.Committed(new NewMessage(new RoomId(Room), new DeviceId("alice"), new DeviceId("carol"), MessageType.Direct, "psst", Now), new StoredMessage(new MessageId(2), new MessageId(1)));

        Assert.Equal(("hi all", "t-1", 1L), Message(await bob.ReceiveAsync()));
        Assert.Equal(("hi all", "t-1", 1L), Message(await carol.ReceiveAsync()));
        Assert.Equal(("psst", "2024-01-20T12:34:56.789Z", 2L), Message(await carol.ReceiveAsync()));
        await alice.ExpectNothingAsync();
        await bob.ExpectNothingAsync();
    }

    [Fact]
    public async Task Attach_TheReplyComesBeforeAnythingTheRoomSends()
    {
        var node = Node("node-a");
        var alice = await node.JoinAsync("alice");
        var late = node.Connect();
        var member = new RoomMember(new DeviceId("bob"), "bob", new ConnectionId(99), new NodeId("node-a"));
        late.Session.Identified(member, new RoomId(Room));
        await node.Hub.JoinAsync(late.Session, new RoomId(Room), member, CancellationToken.None);

        // Joined, not attached: a message committed now is in the room's history, not in this stream.
        node.Hub.Committed(new NewMessage(new RoomId(Room), new DeviceId("alice"), null, MessageType.Broadcast, "before", Now), new StoredMessage(new MessageId(1), new MessageId(0)));
        await node.Hub.AttachAsync(late.Session, new RoomAssignedDto(Room, "joined_existing"), CancellationToken.None);
        node.Hub.Committed(new NewMessage(new RoomId(Room), new DeviceId("alice"), null, MessageType.Broadcast, "after", Now), new StoredMessage(new MessageId(2), new MessageId(1)));

        Assert.Equal("room", Type(await late.ReceiveAsync()));
        Assert.Equal(("after", "2024-01-20T12:34:56.789Z", 2L), Message(await late.ReceiveAsync()));
        await alice.ExpectNothingAsync();
    }

    [Fact]
    public async Task OtherNodesPublications_DeliveredInIdOrderWhateverOrderTheyArrive()
    {
        var (a, b) = (Node("node-a"), Node("node-b"));
        await a.JoinAsync("alice");
        var bob = await b.JoinAsync("bob");

        // Node B's members joined after message 1; messages 2 and 3 reach it in the wrong order.
        b.Hub.Deliver(Envelope(3, 2, "third"));
        b.Hub.Deliver(Envelope(2, 1, "second"));

        Assert.Equal("second", Message(await bob.ReceiveAsync()).Content);
        Assert.Equal("third", Message(await bob.ReceiveAsync()).Content);
    }

    [Fact]
    public async Task TwoNodes_MessagesAndPresenceCrossTheBusOnceNeverBackToTheirOrigin()
    {
        var (a, b) = (Node("node-a"), Node("node-b"));
        var alice = await a.JoinAsync("alice");
        var dave = await a.JoinAsync("dave");
        var bob = await b.JoinAsync("bob");

        a.Hub.Committed(new NewMessage(new RoomId(Room), new DeviceId("alice"), null, MessageType.Broadcast, "across", Now), new StoredMessage(new MessageId(1), new MessageId(0)));
        a.Hub.SendPresence(new RoomId(Room), new DeviceId("alice"), new PresenceEventDto(PresenceEventDto.Joined, Room, "alice", "alice"));

        Assert.Equal("across", Message(await bob.ReceiveAsync()).Content);
        Assert.Equal("presence", Type(await bob.ReceiveAsync()));
        Assert.Equal("across", Message(await dave.ReceiveAsync()).Content);
        Assert.Equal("presence", Type(await dave.ReceiveAsync()));
        await alice.ExpectNothingAsync();
        await dave.ExpectNothingAsync();
        Assert.Equal(2, _broker.Published);
    }

    [Fact]
    public async Task RoomChannel_FirstMemberHereSubscribesLastOneUnsubscribes()
    {
        var node = Node("node-a");
        var alice = await node.JoinAsync("alice");
        var bob = await node.JoinAsync("bob");
        Assert.Equal(1, _broker.Subscriptions(Room));

        Assert.True(node.Hub.Leave(alice.Session));
        Assert.Equal(1, _broker.Subscriptions(Room));
        Assert.True(node.Hub.Leave(bob.Session));
        await Eventually.TrueAsync(() => Task.FromResult(_broker.Subscriptions(Room) == 0), TimeSpan.FromSeconds(5));
        Assert.Empty(node.Hub.Rooms());

        await node.JoinAsync("carol");
        Assert.Equal(1, _broker.Subscriptions(Room));
    }

    [Fact]
    public async Task SameDeviceAgain_NewerReplacesOlderAndOlderJoiningLateIsSuperseded()
    {
        var node = Node("node-a");
        var older = await node.JoinAsync("phone", connectionId: 10);
        var newer = node.Connect();
        var member = new RoomMember(new DeviceId("phone"), "phone", new ConnectionId(20), new NodeId("node-a"));
        newer.Session.Identified(member, new RoomId("ROOM02"));

        var join = await node.Hub.JoinAsync(newer.Session, new RoomId("ROOM02"), member, CancellationToken.None);

        Assert.Equal(PresenceJoin.Added(older.Session.Member, new RoomId(Room)), join.Local);
        Assert.Empty(node.Hub.Members(new RoomId(Room)));
        Assert.Equal([member], node.Hub.Members(new RoomId("ROOM02")));
        Assert.False(node.Hub.Leave(older.Session), "the older connection no longer holds the device");

        var stale = node.Connect();
        var staleMember = new RoomMember(new DeviceId("phone"), "phone", new ConnectionId(15), new NodeId("node-a"));
        stale.Session.Identified(staleMember, new RoomId(Room));
        Assert.True((await node.Hub.JoinAsync(stale.Session, new RoomId(Room), staleMember, CancellationToken.None)).Local.Superseded);
        Assert.Equal([member], node.Hub.Members(new RoomId("ROOM02")));
    }

    private static readonly DateTime Now = new(2024, 1, 20, 12, 34, 56, 789, DateTimeKind.Utc);

    private static ClusterEnvelope Envelope(long id, long previousId, string content) =>
        new(EnvelopeKind.ToRoom, new RoomId(Room), new DeviceId("alice"), new ConnectionId(0),
            Rooms.WebSocketHost.Frames.FrameWriter.Message(new DeliveredMessageDto(content, "alice", "broadcast", "t", id)), new MessageId(id), new MessageId(previousId));

    private static (string Content, string Timestamp, long MessageId) Message(JsonElement frame) =>
        (frame.GetProperty("content").GetString()!, frame.GetProperty("timestamp").GetString()!, long.Parse(frame.GetProperty("message_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture));

    private static string Type(JsonElement frame) => frame.GetProperty("type").GetString()!;

    private TestNode Node(string nodeId) => new(this, nodeId);

    private sealed class TestNode
    {
        private readonly RoomHubTests _test;

        public TestNode(RoomHubTests test, string nodeId)
        {
            _test = test;
            NodeId = nodeId;
            var metrics = new RoomsMetrics(new TestMeterFactory());
            Hub = new RoomHub(test._broker.BusFor(nodeId), new EmptyHistory(), new NodeIdentity(new NodeId(nodeId), "test"), metrics, NullLogger<RoomHub>.Instance);
        }

        public string NodeId { get; }

        public RoomHub Hub { get; }

        public Client Connect()
        {
            var client = new Client(Interlocked.Increment(ref _test._nextSession));
            _test._owned.Add(client);
            return client;
        }

        /// <summary>Identified, joined and attached, the reply read.</summary>
        public async Task<Client> JoinAsync(string deviceId, long? connectionId = null)
        {
            var client = Connect();
            var member = new RoomMember(new DeviceId(deviceId), deviceId, new ConnectionId(connectionId ?? client.Session.Id), new NodeId(NodeId));
            client.Session.Identified(member, new RoomId(Room));
            await Hub.JoinAsync(client.Session, new RoomId(Room), member, CancellationToken.None);
            await Hub.AttachAsync(client.Session, new RoomAssignedDto(Room, "joined_existing"), CancellationToken.None);
            Assert.Equal("room", Type(await client.ReceiveAsync()));
            return client;
        }
    }

    /// <summary>One connection: the server's side in the hub, the client's side read by the test.</summary>
    private sealed class Client : IDisposable
    {
        private readonly WebSocket _client;

        public Client(long sessionId)
        {
            var (toServer, toClient) = (new Pipe(), new Pipe());
            var server = WebSocket.CreateFromStream(new DuplexStream(toServer.Reader.AsStream(), toClient.Writer.AsStream()), new WebSocketCreationOptions { IsServer = true });
            _client = WebSocket.CreateFromStream(new DuplexStream(toClient.Reader.AsStream(), toServer.Writer.AsStream()), new WebSocketCreationOptions { IsServer = false });
            Connection = new ClientConnection(sessionId, server, new SendQueueLimits(64, 1 << 20, TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(1), NullLogger.Instance);
            Session = new ClientSession(sessionId, "127.0.0.1", Connection);
        }

        public ClientSession Session { get; }

        public ClientConnection Connection { get; }

        public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
        {
            using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(5));
            var buffer = new byte[64 * 1024];
            var result = await _client.ReceiveAsync(buffer, cancel.Token);
            return JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count)).RootElement.Clone();
        }

        public async Task ExpectNothingAsync()
        {
            var buffer = new byte[64 * 1024];
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                var result = await _client.ReceiveAsync(buffer, cancel.Token);
                Assert.Fail($"expected nothing, got {Encoding.UTF8.GetString(buffer, 0, result.Count)}");
            }
            catch (OperationCanceledException)
            {
                // Nothing came.
            }
        }

        public void Dispose()
        {
            Connection.Dispose();
            _client.Dispose();
        }
    }

    private sealed class DuplexStream(Stream reading, Stream writing) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => writing.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => writing.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => reading.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => reading.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => writing.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => writing.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Pub/sub between in-process nodes, as Redis does it for the hub: a node's publication reaches every other node listening, in order; never its origin.</summary>
    private sealed class InMemoryBroker
    {
        private readonly Lock _gate = new();
        private readonly List<(string Channel, string NodeId, ILocalDelivery To, Subscription Handle)> _subscriptions = [];
        private int _published;

        public int Published => Volatile.Read(ref _published);

        public int Subscriptions(string roomId)
        {
            lock (_gate)
            {
                return _subscriptions.Count(s => s.Channel == "room:" + roomId);
            }
        }

        public IClusterBus BusFor(string nodeId) => new Bus(this, nodeId);

        private void Publish(string channel, string origin, ClusterEnvelope envelope)
        {
            Interlocked.Increment(ref _published);
            List<ILocalDelivery> targets;
            lock (_gate)
            {
                targets = [.. _subscriptions.Where(s => s.Channel == channel && s.NodeId != origin).Select(s => s.To)];
            }

            foreach (var target in targets)
            {
                target.Deliver(envelope);
            }
        }

        private sealed class Bus(InMemoryBroker broker, string nodeId) : IClusterBus
        {
            public void PublishToRoom(ClusterEnvelope envelope) => broker.Publish("room:" + envelope.RoomId, nodeId, envelope);

            public void PublishToNode(NodeId targetNodeId, ClusterEnvelope envelope) => broker.Publish("node:" + targetNodeId.Value, nodeId, envelope);

            public Task<IAsyncDisposable> SubscribeRoomAsync(RoomId roomId, ILocalDelivery to)
            {
                var handle = new Subscription(broker);
                lock (broker._gate)
                {
                    broker._subscriptions.Add(("room:" + roomId.Value, nodeId, to, handle));
                }

                return Task.FromResult<IAsyncDisposable>(handle);
            }

            public Task SubscribeNodeAsync(ILocalDelivery to)
            {
                lock (broker._gate)
                {
                    broker._subscriptions.Add(("node:" + nodeId, nodeId, to, new Subscription(broker)));
                }

                return Task.CompletedTask;
            }
        }

        private sealed class Subscription(InMemoryBroker broker) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                lock (broker._gate)
                {
                    broker._subscriptions.RemoveAll(s => s.Handle == this);
                }

                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class EmptyHistory : IMessageHistory
    {
        public Task<MessageId> LastIdAsync(RoomId roomId, CancellationToken cancellationToken) => Task.FromResult(MessageId.None);

        public Task<IReadOnlyList<HistoryMessage>> BetweenAsync(RoomId roomId, MessageId afterId, MessageId beforeId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<HistoryMessage>>([]);

        public Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageAsync(RoomId roomId, DeviceId deviceId, MessageId afterId, int limit, int maxBytes, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<(IReadOnlyList<HistoryMessage> Messages, bool HasMore)> PageBeforeAsync(RoomId roomId, DeviceId deviceId, MessageId beforeId, int limit, int maxBytes, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}

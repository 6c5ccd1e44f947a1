using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Moq;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership.Identify;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

public sealed class IdentifyHandlerTests
{
    private readonly Mock<IRoomRepository> _repository = new(MockBehavior.Strict);
    private readonly Mock<IPresence> _presence = new();
    private readonly Mock<IRoomHub> _hub = new();
    private readonly Mock<IClientChannel> _channel = new();
    private readonly FakeTimeProvider _time = new(TestData.Now);
    private readonly Mock<IDeviceAuthenticator> _authenticator = new();

    private readonly Mock<IClientLimits> _limits = new();

    [Fact]
    public async Task Handle_DeviceOverItsIdentifyRate_ClosedForAbuseNothingRead()
    {
        var session = TestData.NewSession(_channel.Object);
        _limits.Setup(l => l.TryIdentify(session, new DeviceId("d1"))).Returns(false);

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null), CancellationToken.None);

        Assert.StartsWith("Too many identifies", result.Error);
        _channel.Verify(c => c.CloseForAbuse(result.Error!));
        _repository.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Handle_UnknownRoomPastTheGuessLimit_AnsweredThenClosedForAbuse()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("NOPE00"), It.IsAny<CancellationToken>())).ReturnsAsync(false);
        _limits.Setup(l => l.TryFailJoin(session, new DeviceId("d1"))).Returns(false);

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "NOPE00"), CancellationToken.None);

        Assert.Equal("room_not_found", result.Value!.Status);
        _channel.Verify(c => c.CloseForAbuse(It.Is<string>(e => e.StartsWith("Too many unknown room ids", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task Handle_NewRoomPastTheCreationRate_ErrorNothingStored()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _limits.Setup(l => l.TryCreateRoom(session, new DeviceId("d1"))).Returns(false);

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null), CancellationToken.None);

        Assert.StartsWith("Too many new rooms", result.Error);
        _repository.Verify(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    public IdentifyHandlerTests()
    {
        _authenticator.Setup(a => a.AuthorizeAsync(It.IsAny<string?>(), It.IsAny<DeviceId>(), It.IsAny<CancellationToken>())).ReturnsAsync(DeviceAuthorization.Anyone);
        _limits.Setup(l => l.TryIdentify(It.IsAny<ClientSession>(), It.IsAny<DeviceId>())).Returns(true);
        _limits.Setup(l => l.TryFailJoin(It.IsAny<ClientSession>(), It.IsAny<DeviceId>())).Returns(true);
        _limits.Setup(l => l.TryCreateRoom(It.IsAny<ClientSession>(), It.IsAny<DeviceId>())).Returns(true);
        _presence.Setup(p => p.JoinAsync(It.IsAny<RoomId>(), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>())).ReturnsAsync(PresenceJoin.Added(null, null));
        _hub.Setup(h => h.JoinAsync(It.IsAny<ClientSession>(), It.IsAny<RoomId>(), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new HubJoin(PresenceJoin.Added(null, null), Listening: true));
    }

    private IdentifyHandler Handler() =>
        new(_repository.Object, TestData.Presence(_hub, _presence), _authenticator.Object, _limits.Object, new ProtocolSettings(), TestData.Node, _time,
            TestData.Metrics(), NullLogger<IdentifyHandler>.Instance);

    [Fact]
    public async Task Handle_NoRoomIdUnknownDevice_CreatesRoomAndJoins()
    {
        var session = TestData.NewSession(_channel.Object);
        NewConnection? stored = null;
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>()))
            .Callback<NewConnection, CancellationToken>((c, _) => stored = c)
            .ReturnsAsync(new ConnectionId(42));

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null), CancellationToken.None);

        Assert.True(result.IsSuccess);
        Assert.Equal("created_new", result.Value!.Status);
        Assert.Matches("^[A-Z0-9]{6}$", result.Value.RoomId);
        Assert.NotNull(stored);
        Assert.True(stored.RoomIsNew);
        Assert.Equal(result.Value.RoomId, stored.RoomId.Value);
        Assert.Equal(new RoomId(result.Value.RoomId), stored.Device.LastRoomId);
        Assert.Equal("10.0.0.1", stored.ClientIp);
        Assert.Equal(new ConnectionId(42), session.Member!.ConnectionId);
        Assert.Equal(result.Value.RoomId, session.RoomId.Value);
        Assert.Equal(TestData.NodeId, stored.NodeId);
        _presence.Verify(p => p.JoinAsync(new RoomId(result.Value.RoomId), new RoomMember(new DeviceId("d1"), "phone", new ConnectionId(42), TestData.NodeId), It.IsAny<CancellationToken>()));
        _hub.Verify(h => h.AttachAsync(session, result.Value, It.IsAny<CancellationToken>()));
        _hub.Verify(h => h.SendPresence(new RoomId(result.Value.RoomId), new DeviceId("d1"), new PresenceEventDto("joined", result.Value.RoomId, "d1", "phone")));
    }

    [Fact]
    public async Task Handle_ExistingRoomRequested_JoinsExisting()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM1"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.Is<NewConnection>(c => c.RoomId == new RoomId("ROOM1") && !c.RoomIsNew), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ConnectionId(1));

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM1"), CancellationToken.None);

        Assert.Equal(new RoomAssignedDto("ROOM1", "joined_existing"), result.Value);
    }

    [Fact]
    public async Task Handle_UnknownRoomRequested_RoomNotFoundAndStaysUnidentified()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("NOPE"), It.IsAny<CancellationToken>())).ReturnsAsync(false);

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "NOPE"), CancellationToken.None);

        Assert.Equal(new RoomAssignedDto("NOPE", "room_not_found"), result.Value);
        Assert.False(session.IsIdentified);
        _presence.VerifyNoOtherCalls();
        _repository.Verify(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Handle_KnownDeviceWithoutRoomId_ReconnectsToLastRoom()
    {
        var session = TestData.NewSession(_channel.Object);
        var known = Device.Restore(new DeviceId("d1"), "phone", TestData.Now.AddDays(-1), new RoomId("LAST01"));
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync(known);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("LAST01"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.Is<NewConnection>(c => c.RoomId == new RoomId("LAST01") && !c.RoomIsNew), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ConnectionId(3));

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null), CancellationToken.None);

        Assert.Equal(new RoomAssignedDto("LAST01", "reconnected"), result.Value);
    }

    [Fact]
    public async Task Handle_GeneratedIdTaken_DrawsAnotherId()
    {
        var session = TestData.NewSession(_channel.Object);
        var attempts = new List<RoomId>();
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>()))
            .Returns<NewConnection, CancellationToken>((c, _) =>
            {
                attempts.Add(c.RoomId);
                return attempts.Count == 1 ? throw new RoomIdTakenException(c.RoomId) : Task.FromResult(new ConnectionId(9));
            });

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null), CancellationToken.None);

        Assert.Equal(2, attempts.Count);
        Assert.Equal(attempts[1].Value, result.Value!.RoomId);
    }

    [Fact]
    public async Task Handle_SameDeviceConnectedElsewhere_ClosesReplacedConnection()
    {
        var session = TestData.NewSession(_channel.Object);
        var older = new RoomMember(new DeviceId("d1"), "phone", new ConnectionId(1), new NodeId("node-b"));
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM1"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ConnectionId(2));
        _presence.Setup(p => p.JoinAsync(new RoomId("ROOM1"), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>())).ReturnsAsync(PresenceJoin.Added(older, new RoomId("ROOM1")));

        await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM1"), CancellationToken.None);

        _hub.Verify(h => h.CloseReplaced(older));
        _hub.Verify(h => h.CloseReplaced(session.Member!), Times.Never);

        // Still in the same room: the others hear nothing.
        _hub.Verify(h => h.SendPresence(It.IsAny<RoomId>(), It.IsAny<DeviceId>(), It.IsAny<PresenceEventDto>()), Times.Never);
    }

    [Fact]
    public async Task Handle_SameDeviceMovesToAnotherRoom_OldRoomHearsLeftNewRoomHearsJoined()
    {
        var session = TestData.NewSession(_channel.Object);
        var older = new RoomMember(new DeviceId("d1"), "phone", new ConnectionId(1), new NodeId("node-b"));
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM2"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ConnectionId(2));
        _presence.Setup(p => p.JoinAsync(new RoomId("ROOM2"), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>())).ReturnsAsync(PresenceJoin.Added(older, new RoomId("ROOM1")));

        await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM2"), CancellationToken.None);

        _hub.Verify(h => h.SendPresence(new RoomId("ROOM1"), new DeviceId("d1"), new PresenceEventDto("left", "ROOM1", "d1", "phone")));
        _hub.Verify(h => h.SendPresence(new RoomId("ROOM2"), new DeviceId("d1"), new PresenceEventDto("joined", "ROOM2", "d1", "phone")));
    }

    [Fact]
    public async Task Handle_NewerConnectionOfDeviceJoinedFirst_ClosesOwnConnection()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM1"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ConnectionId(5));
        _presence.Setup(p => p.JoinAsync(new RoomId("ROOM1"), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>())).ReturnsAsync(PresenceJoin.Stale);

        await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM1"), CancellationToken.None);

        _hub.Verify(h => h.CloseReplaced(session.Member!));
    }

    [Fact]
    public async Task Handle_Identified_ClosableByConnectionIdBeforeOthersCanSeeIt()
    {
        var session = TestData.NewSession(_channel.Object);
        var calls = new List<string>();
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM1"), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _repository.Setup(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ConnectionId(5));
        _hub.Setup(h => h.JoinAsync(session, new RoomId("ROOM1"), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>()))
            .Callback(() => calls.Add("track")).ReturnsAsync(new HubJoin(PresenceJoin.Added(null, null), Listening: true));
        _presence.Setup(p => p.JoinAsync(new RoomId("ROOM1"), It.IsAny<RoomMember>(), It.IsAny<CancellationToken>()))
            .Callback(() => calls.Add("join")).ReturnsAsync(PresenceJoin.Added(null, null));

        await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM1"), CancellationToken.None);

        // A newer connection that joins in between can close this one: the hub tracks it before the other nodes can see it.
        Assert.Equal(["track", "join"], calls);
    }

    [Fact]
    public async Task Handle_StorageFails_ErrorAndSessionStaysUnidentified()
    {
        var session = TestData.NewSession(_channel.Object);
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ThrowsAsync(TestData.DatabaseDown());

        var result = await TestData.WithStoragePolicy(new IdentifyCommand(session, "d1", "phone", null), Handler());

        Assert.False(result.IsSuccess);
        Assert.Contains("storage", result.Error);
        Assert.False(session.IsIdentified);
        _presence.VerifyNoOtherCalls();
        _hub.VerifyNoOtherCalls();
        _channel.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task Handle_TokenRefused_ErrorAndClose4003_NothingStored()
    {
        var session = TestData.NewSession(_channel.Object);
        _authenticator.Setup(a => a.AuthorizeAsync("bad", new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync(DeviceAuthorization.Refused("Authentication failed: the token is not valid"));

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", null, "bad"), CancellationToken.None);

        Assert.Equal("Authentication failed: the token is not valid", result.Error);
        _channel.Verify(c => c.RefuseUnauthorized("Authentication failed: the token is not valid"));
        _repository.VerifyNoOtherCalls();
        Assert.False(session.IsIdentified);
    }

    [Fact]
    public async Task Handle_TokenRestrictedToOtherRoom_RefusedBeforeAnythingIsStored()
    {
        var session = TestData.NewSession(_channel.Object);
        _authenticator.Setup(a => a.AuthorizeAsync("t", new DeviceId("d1"), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new DeviceAuthorization(null, new HashSet<RoomId> { new("ROOM1") }));
        _repository.Setup(r => r.FindDeviceAsync(new DeviceId("d1"), It.IsAny<CancellationToken>())).ReturnsAsync((Device?)null);
        _repository.Setup(r => r.RoomExistsAsync(new RoomId("ROOM2"), It.IsAny<CancellationToken>())).ReturnsAsync(true);

        var result = await Handler().Handle(new IdentifyCommand(session, "d1", "phone", "ROOM2", "t"), CancellationToken.None);

        Assert.Equal("Not allowed: the token does not allow room ROOM2", result.Error);
        _channel.Verify(c => c.RefuseUnauthorized(result.Error!));
        _repository.Verify(r => r.RecordConnectionAsync(It.IsAny<NewConnection>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}

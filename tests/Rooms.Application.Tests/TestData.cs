using Rooms.Application.Common;
using Rooms.Application.Sessions;
using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Tests;

/// <summary>Builders for the objects the handler tests need.</summary>
internal static class TestData
{
    public static readonly DateTime Now = new(2024, 1, 20, 12, 34, 56, 789, DateTimeKind.Utc);

    private static long _nextSessionId = 100;

    /// <summary>A fresh session; its connection is <paramref name="channel"/> (a mock of the test) or a loose mock.</summary>
    public static ClientSession NewSession(Ports.IClientChannel? channel = null, string clientIp = "10.0.0.1") =>
        new(Interlocked.Increment(ref _nextSessionId), clientIp, channel ?? new Moq.Mock<Ports.IClientChannel>().Object);

    public static readonly NodeId NodeId = new("node-a");

    public static readonly NodeIdentity Node = new(NodeId, "incarnation1");

    /// <summary>A session that has identified as <paramref name="deviceId"/> in <paramref name="roomId"/>.</summary>
    public static ClientSession IdentifiedSession(string deviceId, string roomId = "ABC123", long connectionId = 7)
    {
        var session = NewSession();
        session.Identified(new RoomMember(new DeviceId(deviceId), deviceId + "_user", new ConnectionId(connectionId), NodeId), new RoomId(roomId));
        return session;
    }

    public static RoomsMetrics Metrics() => new(new TestMeterFactory());

    /// <summary>Meters of their own per test, not shared through a container.</summary>
    internal sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }

    public static StorageOutageLog Outage() =>
        new(Microsoft.Extensions.Logging.Abstractions.NullLogger<StorageOutageLog>.Instance, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now));

    /// <summary>Who is in a room: this node's hub and the shared store, both mocks of the test.</summary>
    public static Membership.RoomPresence Presence(Moq.Mock<Ports.IRoomHub> hub, Moq.Mock<Ports.IPresence> shared, ProtocolSettings? settings = null)
    {
        hub.Setup(h => h.Members(Moq.It.IsAny<RoomId>())).Returns([]);
        settings ??= new ProtocolSettings();
        return new(hub.Object, shared.Object, new Membership.PresenceBatcher(hub.Object, settings, TimeProvider.System), settings);
    }

    /// <summary>Handles the request as the pipeline does for storage: a storage failure becomes the request's "try again" error.</summary>
    public static Task<Result<TValue>> WithStoragePolicy<TRequest, TValue>(TRequest request, MediatR.IRequestHandler<TRequest, Result<TValue>> handler)
        where TRequest : MediatR.IRequest<Result<TValue>>, IUsesStorage =>
        new StorageFailureBehavior<TRequest, TValue>(Outage(), Metrics()).Handle(request, CancellationToken.None, () => handler.Handle(request, CancellationToken.None));

    /// <summary>What a database outage looks like to a handler (a <see cref="System.Data.Common.DbException"/>).</summary>
    public static Exception DatabaseDown() => new FakeDbException("database down");

    private sealed class FakeDbException(string message) : System.Data.Common.DbException(message);

    public static IReadOnlyList<RoomMember> MembersOf(params ClientSession[] sessions) => [.. sessions.Select(s => s.Member!)];
}

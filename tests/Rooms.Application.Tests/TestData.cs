using Rooms.Application.Sessions;
using Rooms.Domain.Rooms;

namespace Rooms.Application.Tests;

/// <summary>Builders for the objects the handler tests need.</summary>
internal static class TestData
{
    public static readonly DateTime Now = new(2024, 1, 20, 12, 34, 56, 789, DateTimeKind.Utc);

    private static long _nextSessionId = 100;

    public static ClientSession NewSession(string clientIp = "10.0.0.1") => new(Interlocked.Increment(ref _nextSessionId), clientIp);

    /// <summary>A session that has identified as <paramref name="deviceId"/> in <paramref name="roomId"/>.</summary>
    public static ClientSession IdentifiedSession(string deviceId, string roomId = "ABC123", long connectionRowId = 7)
    {
        var session = NewSession();
        session.Identified(new RoomMember(deviceId, deviceId + "_user", session.Id), roomId, connectionRowId);
        return session;
    }

    public static Room RoomWith(string roomId, params ClientSession[] sessions)
    {
        var room = new Room(roomId);
        foreach (var session in sessions)
        {
            room.Join(session.Member!);
        }

        return room;
    }
}

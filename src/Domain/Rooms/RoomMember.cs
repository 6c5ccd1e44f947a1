namespace Rooms.Domain.Rooms;

/// <summary>A device present in a room through one live connection (<paramref name="SessionId"/>).</summary>
public sealed record RoomMember(string DeviceId, string Identity, long SessionId);

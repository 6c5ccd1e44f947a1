namespace Rooms.Application.Contracts;

/// <summary>The <c>presence</c> frame. <paramref name="Event"/> is <c>joined</c> or <c>left</c>.</summary>
public sealed record PresenceEventDto(string Event, string RoomId, string DeviceId, string Identity)
{
    public const string Joined = "joined";
    public const string Left = "left";
}

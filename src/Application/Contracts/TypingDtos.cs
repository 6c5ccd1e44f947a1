namespace Rooms.Application.Contracts;

/// <summary>The <c>typing</c> frame the room's other members receive.</summary>
public sealed record TypingEventDto(string RoomId, string DeviceId, string Identity) : IRoomEvent
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string FrameType => "typing";
}

/// <summary>The <c>typing_sent</c> reply: how many other devices of the room, on every node, were told.</summary>
public sealed record TypingSentDto(string RoomId, int Recipients);

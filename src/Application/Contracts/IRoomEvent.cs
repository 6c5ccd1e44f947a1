namespace Rooms.Application.Contracts;

/// <summary>
/// A frame for the members of a room, on every node, that is not stored (typing). Its properties are its fields,
/// in snake_case, after <c>"type":</c> <see cref="FrameType"/> (mark it <c>[JsonIgnore]</c>).
/// </summary>
public interface IRoomEvent
{
    string FrameType { get; }
}

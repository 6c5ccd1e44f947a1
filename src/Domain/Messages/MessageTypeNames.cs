namespace Rooms.Domain.Messages;

/// <summary>The names a message type has on the wire and in the <c>messages.message_type</c> column.</summary>
public static class MessageTypeNames
{
    public const string Broadcast = "broadcast";
    public const string Direct = "direct";

    public static string ToName(this MessageType type) => type == MessageType.Direct ? Direct : Broadcast;

    public static MessageType Parse(string name) => name switch
    {
        Broadcast => MessageType.Broadcast,
        Direct => MessageType.Direct,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Not a message type"),
    };
}

namespace Rooms.Domain.Messages;

public enum MessageType
{
    Broadcast,
    Direct,
}

using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;

namespace Rooms.Application.Contracts;

/// <summary>A forwarded <c>message</c> frame, built once and sent to every recipient.</summary>
public sealed record DeliveredMessageDto(string Content, string FromDeviceId, string MessageType, string Timestamp, long MessageId)
{
    /// <summary>A stored message as it is delivered again (history, a delivery gap filled); its timestamp is the time it was stored.</summary>
    public static DeliveredMessageDto From(HistoryMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new DeliveredMessageDto(message.Content, message.FromDeviceId.Value, message.Type.ToName(), FieldRules.FormatTimestamp(message.SentAt), message.Id.Value);
    }
}

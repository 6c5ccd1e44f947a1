using Rooms.Domain.Messages;

namespace Rooms.Application.Ports;

public interface IMessageStore
{
    /// <summary>Completes once the row is committed, with its id. Never completes before the commit.</summary>
    ValueTask<long> AppendAsync(NewMessage message, CancellationToken cancellationToken);
}

/// <param name="ToDeviceId">Null for a broadcast.</param>
public sealed record NewMessage(string RoomId, string FromDeviceId, string? ToDeviceId, MessageType Type, string Content, DateTime SentAt);

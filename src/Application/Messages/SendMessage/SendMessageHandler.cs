using MediatR;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Messages.SendMessage;

public sealed partial class SendMessageHandler(
    IMessageStore messageStore,
    RoomPresence presence,
    TimeProvider time,
    RoomsMetrics metrics,
    ILogger<SendMessageHandler> logger) : IRequestHandler<SendMessageCommand, Result<SendReceiptDto>>
{
    private readonly LogSampler _sampler = new();

    public async Task<Result<SendReceiptDto>> Handle(SendMessageCommand request, CancellationToken cancellationToken)
    {
        var session = request.Session;
        var from = session.IdentifiedMember;
        var roomId = session.RoomId;
        var target = DeviceId.FromNullable(request.TargetDeviceId);
        var type = target is null ? MessageType.Broadcast : MessageType.Direct;
        metrics.MessageReceived(type.ToName());

        // A direct message needs its target connected in the same room (on any node); never the sender itself.
        if (target is not null && (target == from.DeviceId || await presence.FindAsync(roomId, target.Value, cancellationToken) is null))
        {
            if (_sampler.ShouldLog("target-not-found", out var leftOut))
            {
                LogTargetNotFound(from.DeviceId, target.Value, roomId, leftOut);
            }

            return Result<SendReceiptDto>.Fail($"Target device not found: {target.Value}");
        }

        var clientId = request.ClientMessageId;
        var recipients = clientId is null ? 0 : await RecipientsAsync(roomId, from.DeviceId, target, cancellationToken);

        // The room hears who joined (a coalesced presence window) before it hears them speak.
        presence.SendPendingChanges(roomId);

        // Durable before delivery: the store hands the message to the room hub at its commit, in the room's id order.
        var stored = await messageStore.AppendAsync(
            new NewMessage(roomId, from.DeviceId, target, type, request.Content!, time.GetUtcNow().UtcDateTime, clientId, recipients, request.Timestamp), cancellationToken);
        if (stored.Conflict)
        {
            // Not a resend: acking it would hand back another message's id, and the new content would be lost silently.
            return Result<SendReceiptDto>.Fail($"'id' \"{clientId}\" was already used for a different message (another room, target or content); send a new message with a new id");
        }

        if (stored.Duplicate)
        {
            // A resend of a message already stored (its ack was lost): the same ack again, nothing delivered twice.
            LogDuplicate(from.DeviceId, clientId!, stored.Id);
            return Result<SendReceiptDto>.Ok(new SendReceiptDto(stored.Id.Value, Duplicate: true, new AckDto(clientId!, stored.Id.Value, stored.Recipients)));
        }

        // The ack follows this node's deliveries: the store handed the message to the hub before it answered.
        return Result<SendReceiptDto>.Ok(new SendReceiptDto(stored.Id.Value, Duplicate: false, clientId is null ? null : new AckDto(clientId, stored.Id.Value, recipients)));
    }

    /// <summary>The devices a message is addressed to, on every node: the room's other members, or its one target.</summary>
    private async Task<int> RecipientsAsync(RoomId roomId, DeviceId fromDeviceId, DeviceId? target, CancellationToken cancellationToken)
    {
        if (target is not null)
        {
            return 1;
        }

        return await presence.CountOthersAsync(roomId, fromDeviceId, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {DeviceId} resent message {ClientMessageId}, stored before as {MessageId}: acknowledged again, not delivered again")]
    private partial void LogDuplicate(DeviceId deviceId, string clientMessageId, MessageId messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {DeviceId} sent to {TargetDeviceId}, not connected in room {RoomId} ({LeftOut} more not logged since the last line)")]
    private partial void LogTargetNotFound(DeviceId deviceId, DeviceId targetDeviceId, RoomId roomId, int leftOut);
}

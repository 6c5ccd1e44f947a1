using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Messages.SendMessage;

/// <summary>A broadcast (no <paramref name="TargetDeviceId"/>) or a direct message.</summary>
/// <param name="Timestamp">The client's ISO-8601 timestamp, forwarded as given; the server stamps one when absent.</param>
/// <param name="ClientMessageId">The client's <c>id</c>: asks for an ack, and makes a resend recognizable.</param>
public sealed record SendMessageCommand(ClientSession Session, string? Content, string? TargetDeviceId, string? Timestamp, string? ClientMessageId = null)
    : IRequest<Result<SendReceiptDto>>, IUsesStorage
{
    public static string Operation => "message";

    public static string StorageFailure => "Message not delivered: storage unavailable, try again";
}

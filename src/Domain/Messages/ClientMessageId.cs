namespace Rooms.Domain.Messages;

/// <summary>The <c>id</c> a client may give a message so that a resend is recognized (docs/protocol.md, "Ack").</summary>
public static class ClientMessageId
{
    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= ProtocolLimits.ClientMessageIdMaxLength } && VisibleText.IsValid(value);
}

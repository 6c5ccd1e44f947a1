namespace Rooms.Domain.Messages;

/// <summary>The <c>id</c> a client may give a message so that a resend is recognized (docs/protocol.md, "Ack").</summary>
public static class ClientMessageId
{
    public static bool IsValid(string? value)
    {
        if (value is not { Length: > 0 and <= ProtocolLimits.ClientMessageIdMaxLength })
        {
            return false;
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}

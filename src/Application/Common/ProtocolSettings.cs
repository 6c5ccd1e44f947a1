using Rooms.Domain;

namespace Rooms.Application.Common;

/// <summary>The protocol's configurable limits and switches that the use cases enforce.</summary>
public sealed record ProtocolSettings(int MaxContentLength = ProtocolLimits.DefaultMaxContentLength, bool PresenceEvents = true)
{
    public const int DefaultHistoryLimit = 100;
    public const int MaxHistoryLimit = 500;
}

using Rooms.Domain;

namespace Rooms.Application.Common;

/// <summary>The protocol's configurable limits that the use cases enforce.</summary>
public sealed record ProtocolSettings(int MaxContentLength = ProtocolLimits.DefaultMaxContentLength);

using Rooms.Domain.Connections;

namespace Rooms.Application.Common;

/// <summary>
/// This server process as the cluster knows it: <paramref name="NodeId"/> is stable across restarts
/// (its connection rows are found by it), <paramref name="Incarnation"/> is new at every start.
/// </summary>
public sealed record NodeIdentity(NodeId NodeId, string Incarnation);

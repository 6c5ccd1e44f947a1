namespace Rooms.Domain.Connections;

/// <summary>
/// One identified connection of a device: the id of its <c>connections</c> row. The database gives them out in
/// increasing order, on every node, and keeps them across Redis restarts, so of two connections of one device the
/// one with the higher id is the newer: it fences replacement (README, "Clustering"). <see cref="None"/> (0): not
/// identified yet.
/// </summary>
public readonly record struct ConnectionId(long Value) : IComparable<ConnectionId>
{
    public static readonly ConnectionId None;

    public bool IsNone => Value == 0;

    public bool IsNewerThan(ConnectionId other) => Value > other.Value;

    public int CompareTo(ConnectionId other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

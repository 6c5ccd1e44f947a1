using System.Buffers;

namespace Rooms.Domain.Connections;

/// <summary>
/// A server process's name in the cluster (<c>Cluster:NodeId</c>): in connection rows, presence entries and channel
/// names. 1-64 characters of A-Z a-z 0-9 _ - . (a host name fits). Stable across the node's restarts.
/// </summary>
public readonly record struct NodeId
{
    public const int MaxLength = 64;

    public const string Rule = "1-64 characters of A-Z a-z 0-9 _ - . (a host name fits)";

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

    /// <exception cref="ArgumentException">Not a valid node id.</exception>
    public NodeId(string value)
    {
        if (!IsValid(value))
        {
            throw new ArgumentException($"Not a node id ({Rule}): '{value}'", nameof(value));
        }

        Value = value;
    }

    public string Value { get; }

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>
    /// The id a node gets when none is configured: its machine name and port, so that two nodes on one machine
    /// differ. Port 0 (a port the system picks, as the tests do) gives no stable address, so a random suffix instead.
    /// </summary>
    public static NodeId ForMachine(string machineName, int port)
    {
        var machine = new string([.. machineName.Where(Allowed.Contains)]);
        var suffix = port > 0 ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : Guid.NewGuid().ToString("N")[..8];
        return new NodeId($"{(machine.Length == 0 ? "node" : machine[..Math.Min(machine.Length, MaxLength - 12)])}-{suffix}");
    }

    public override string ToString() => Value;
}

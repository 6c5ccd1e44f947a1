namespace Rooms.Domain.Messages;

/// <summary>
/// A stored message's id, the <c>message_id</c> of docs/protocol.md: the <c>messages</c> row's id, given out in
/// increasing order, so within a room it is the delivery order. <see cref="None"/> (0) is "no message": before a
/// room's first, or no cursor.
/// </summary>
public readonly record struct MessageId(long Value) : IComparable<MessageId>
{
    /// <summary>On the wire a cursor is a string of digits; at most 18 so that it fits a long.</summary>
    public const int MaxDigits = 18;

    public static readonly MessageId None;

    public bool IsNone => Value == 0;

    /// <summary>A message id as a client writes it in a cursor: digits only.</summary>
    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxDigits } && !value.AsSpan().ContainsAnyExceptInRange('0', '9');

    public int CompareTo(MessageId other) => Value.CompareTo(other.Value);

    public static bool operator <(MessageId left, MessageId right) => left.Value < right.Value;

    public static bool operator >(MessageId left, MessageId right) => left.Value > right.Value;

    public static bool operator <=(MessageId left, MessageId right) => left.Value <= right.Value;

    public static bool operator >=(MessageId left, MessageId right) => left.Value >= right.Value;

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

using System.Collections.Concurrent;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Bounds the memory that big replies (history pages, room lists) waiting to be sent may take, across connections:
/// each connection's queue is bounded (<see cref="RoomsSettings.SendQueueBytes"/>), but hundreds of connections that
/// ask and never read would add theirs up. A reply of <see cref="BudgetedFrom"/> bytes or more is queued only within
/// <see cref="RoomsSettings.QueuedReplyBytes"/> in all and <see cref="RoomsSettings.QueuedReplyBytesPerAddress"/> per
/// client address (<see cref="AddressGroups.Narrow"/>); past them the client gets an error instead and asks again
/// later. Small replies (acks, errors) are never refused. Bytes are given back when the reply is sent or dropped.
/// </summary>
internal sealed class ReplyBudget(RoomsSettings settings)
{
    /// <summary>Replies smaller than this are not counted: an ack is never refused.</summary>
    public const int BudgetedFrom = 16 * 1024;

    private readonly ConcurrentDictionary<string, long> _perAddress = new(StringComparer.Ordinal);
    private long _total;
    private long _peak;
    private long _refused;

    /// <summary>Bytes of big replies waiting to be sent, on every connection.</summary>
    public long Queued => Interlocked.Read(ref _total);

    /// <summary>Big replies refused since the start (the client was told the server is busy).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The most that waited since the last call (then reset to what waits now).</summary>
    public long TakePeak() => Interlocked.Exchange(ref _peak, Queued);

    /// <returns>False (nothing reserved) when the reply would pass the total or the address's share.</returns>
    public bool TryReserve(string address, int bytes)
    {
        if (Interlocked.Add(ref _total, bytes) > settings.QueuedReplyBytes)
        {
            Interlocked.Add(ref _total, -bytes);
            Interlocked.Increment(ref _refused);
            return false;
        }

        if (_perAddress.AddOrUpdate(address, bytes, (_, n) => n + bytes) > settings.QueuedReplyBytesPerAddress)
        {
            Release(address, bytes);
            Interlocked.Increment(ref _refused);
            return false;
        }

        var total = Queued;
        for (var peak = Interlocked.Read(ref _peak); total > peak; peak = Interlocked.Read(ref _peak))
        {
            if (Interlocked.CompareExchange(ref _peak, total, peak) == peak)
            {
                break;
            }
        }

        return true;
    }

    public void Release(string address, int bytes)
    {
        Interlocked.Add(ref _total, -bytes);
        if (!_perAddress.TryRemove(new KeyValuePair<string, long>(address, bytes)))
        {
            _perAddress.AddOrUpdate(address, 0, (_, n) => n - bytes);
        }
    }
}

using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Hands one room's stored messages to this node's connections in message id order. Every message
/// carries the id of the room's message before it; one that arrives before its predecessor (another
/// node's publication still on its way) waits. A gap that does not close within
/// <see cref="GapTimeout"/> (the predecessor was published while Redis was away, or not published to
/// this node) is filled from the database, where the missing messages are already committed (ids are
/// committed in order). So a device's live stream has no gaps and no reordering, and the last id it saw
/// is a safe cursor for history.
/// </summary>
/// <param name="lastDelivered">The room's last stored message; null when it could not be read (the database was down): the order then starts at the first message offered.</param>
/// <param name="deliver">Puts a message in its recipients' send queues; called in id order, one at a time.</param>
internal sealed partial class RoomDeliveryOrder(
    RoomId roomId,
    MessageId? lastDelivered,
    Action<OrderedDelivery> deliver,
    Func<RoomId, MessageId, MessageId, Task<IReadOnlyList<OrderedDelivery>>> fetchBetween,
    ILogger logger)
{
    public static readonly TimeSpan GapTimeout = TimeSpan.FromMilliseconds(200);

    private readonly Lock _gate = new();
    private readonly SortedList<MessageId, OrderedDelivery> _waiting = [];
    private MessageId _lastDelivered = lastDelivered ?? MessageId.None;
    private bool _lastKnown = lastDelivered is not null;
    private Timer? _gapTimer;
    private bool _filling;

    public void Offer(in OrderedDelivery delivery)
    {
        lock (_gate)
        {
            if (!_lastKnown)
            {
                // Nothing can have been stored while the database was down, so its predecessor is the room's last message.
                (_lastDelivered, _lastKnown) = (delivery.PreviousId, true);
            }

            if (delivery.Id <= _lastDelivered)
            {
                // Before this node's members joined, or already delivered (filled from the database).
                return;
            }

            if (_waiting.Count == 0 && delivery.PreviousId <= _lastDelivered)
            {
                // The usual case: the room's next message, nothing waiting.
                deliver(delivery);
                _lastDelivered = delivery.Id;
                return;
            }

            if (_waiting.TryAdd(delivery.Id, delivery))
            {
                DrainLocked();
            }
        }
    }

    /// <summary>Delivers every waiting message whose predecessor was delivered; arms the gap timer for the rest.</summary>
    private void DrainLocked()
    {
        while (_waiting.Count > 0 && _waiting.Values[0].PreviousId <= _lastDelivered)
        {
            var next = _waiting.Values[0];
            _waiting.RemoveAt(0);
            deliver(next);
            _lastDelivered = next.Id;
        }

        if (_waiting.Count == 0)
        {
            _gapTimer?.Dispose();
            _gapTimer = null;
        }
        else if (_gapTimer is null && !_filling)
        {
            _gapTimer = new Timer(_ => _ = FillGapAsync(), null, GapTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task FillGapAsync()
    {
        MessageId after, before;
        lock (_gate)
        {
            _gapTimer?.Dispose();
            _gapTimer = null;
            if (_waiting.Count == 0)
            {
                return;
            }

            _filling = true;
            (after, before) = (_lastDelivered, _waiting.Keys[0]);
        }

        IReadOnlyList<OrderedDelivery> missing = [];
        try
        {
            missing = await fetchBetween(roomId, after, before);
        }
        catch (Exception ex)
        {
            // The members miss these live; they are stored, and history has them.
            LogFillFailed(ex, roomId, after, before);
        }

        lock (_gate)
        {
            _filling = false;
            LogGapFilled(roomId, after, before, missing.Count);
            foreach (var delivery in missing)
            {
                if (delivery.Id > _lastDelivered && delivery.Id < before)
                {
                    deliver(delivery);
                    _lastDelivered = delivery.Id;
                }
            }

            if (_waiting.Count > 0)
            {
                var previous = _waiting.Values[0].PreviousId;
                _lastDelivered = previous > _lastDelivered ? previous : _lastDelivered;
            }

            DrainLocked();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {RoomId}: messages between {AfterId} and {BeforeId} did not arrive from the other nodes in time; {Count} delivered from the database")]
    private partial void LogGapFilled(RoomId roomId, MessageId afterId, MessageId beforeId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {RoomId}: reading messages between {AfterId} and {BeforeId} to fill a delivery gap failed")]
    private partial void LogFillFailed(Exception exception, RoomId roomId, MessageId afterId, MessageId beforeId);
}

/// <summary>A frame for some of a room's connections; a stored message's in id order.</summary>
/// <param name="Id">The stored message's id; none for anything else (presence), which is not ordered.</param>
/// <param name="PreviousId">The room's message stored before this one (none when it is the first).</param>
/// <param name="DeviceId">The device it is for when <paramref name="ToDeviceOnly"/>; otherwise the one device it is not for (its sender; null: none).</param>
internal readonly record struct OrderedDelivery(MessageId Id, MessageId PreviousId, ReadOnlyMemory<byte> Frame, DeviceId? DeviceId, bool ToDeviceOnly)
{
    /// <summary>Whether a connection of <paramref name="deviceId"/> gets it.</summary>
    public bool IsFor(DeviceId deviceId) => (DeviceId == deviceId) == ToDeviceOnly;
}

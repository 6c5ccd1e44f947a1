using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.WebSocketHost.Connections;

namespace Rooms.EndToEnd.Tests;

/// <summary>One room's stored messages leave in id order, whatever order they arrive in; a gap is filled from the database.</summary>
public sealed class RoomDeliveryOrderTests
{
    private readonly List<long> _delivered = [];
    private readonly List<(long After, long Before)> _fetched = [];

    [Fact]
    public void InOrder_DeliveredAtOnce()
    {
        var order = Order(lastDelivered: 0);

        order.Offer(Delivery(1, 0));
        order.Offer(Delivery(2, 1));

        Assert.Equal([1, 2], Delivered());
    }

    [Fact]
    public void AheadOfItsPredecessor_WaitsForIt()
    {
        var order = Order(lastDelivered: 1);

        order.Offer(Delivery(3, 2));
        Assert.Empty(Delivered());
        order.Offer(Delivery(2, 1));

        Assert.Equal([2, 3], Delivered());
        Assert.Empty(_fetched);
    }

    [Fact]
    public async Task PredecessorNeverArrives_FilledFromTheDatabaseAfterTheGapTimeout()
    {
        var order = Order(lastDelivered: 1, missing: [Delivery(2, 0)]);

        order.Offer(Delivery(3, 2));

        await Eventually.TrueAsync(() => Task.FromResult(Delivered().Count == 2), TimeSpan.FromSeconds(5));
        Assert.Equal([2, 3], Delivered());
        Assert.Equal([(1L, 3L)], _fetched);
    }

    [Fact]
    public async Task FillFails_TheWaitingMessagesStillGoOut()
    {
        var order = Order(lastDelivered: 1, fetchFails: true);

        order.Offer(Delivery(3, 2));

        await Eventually.TrueAsync(() => Task.FromResult(Delivered().Count == 1), TimeSpan.FromSeconds(5));
        Assert.Equal([3], Delivered());
    }

    [Fact]
    public void StoredBeforeTheMembersJoinedOrAlreadyDelivered_Dropped()
    {
        var order = Order(lastDelivered: 5);

        order.Offer(Delivery(4, 3));
        order.Offer(Delivery(6, 5));
        order.Offer(Delivery(6, 5));

        Assert.Equal([6], Delivered());
    }

    [Fact]
    public void LastIdUnknown_StartsAtTheFirstMessageOffered()
    {
        var order = Order(lastDelivered: null);

        order.Offer(Delivery(10, 9));
        order.Offer(Delivery(11, 10));

        Assert.Equal([10, 11], Delivered());
    }

    private RoomDeliveryOrder Order(long? lastDelivered, IReadOnlyList<OrderedDelivery>? missing = null, bool fetchFails = false) =>
        new(new RoomId("ROOM01"), lastDelivered is { } last ? new MessageId(last) : null, d => { lock (_delivered) { _delivered.Add(d.Id.Value); } }, (_, after, before) =>
        {
            lock (_delivered)
            {
                _fetched.Add((after.Value, before.Value));
            }

            return fetchFails ? Task.FromException<IReadOnlyList<OrderedDelivery>>(new TimeoutException("database down")) : Task.FromResult(missing ?? []);
        }, NullLogger.Instance);

    private List<long> Delivered()
    {
        lock (_delivered)
        {
            return [.. _delivered];
        }
    }

    private static OrderedDelivery Delivery(long id, long previousId) => new(new MessageId(id), new MessageId(previousId), ReadOnlyMemory<byte>.Empty, new DeviceId("alice"), ToDeviceOnly: false);
}

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Tests;

public sealed class GroupCommitMessageStoreTests
{
    private static NewMessage Message(string from, string content, string? to = null) =>
        new(new RoomId("ROOM01"), new DeviceId(from), DeviceId.FromNullable(to), to is null ? MessageType.Broadcast : MessageType.Direct, content, DateTime.UtcNow);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_ManyConcurrentSenders_EveryRowCommittedWithItsOwnId(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            var mine = new List<(long Id, string Content)>();
            for (var i = 0; i < 100; i++)
            {
                var content = $"s{s}-{i}";
                mine.Add(((await store.AppendAsync(Message($"s{s}", content), CancellationToken.None)).Id.Value, content));
            }

            return mine;
        })));

        var rows = (await fixture.MessagesAsync()).ToDictionary(r => r.Id);
        Assert.Equal(800, rows.Count);
        foreach (var (id, content) in ids.SelectMany(x => x))
        {
            Assert.Equal(content, rows[id].MessageContent);
        }

        // Per sender, ids grow in send order.
        Assert.All(ids, mine => Assert.Equal(mine.Select(m => m.Id).Order(), mine.Select(m => m.Id)));
    }

    [Fact]
    public async Task AppendAsync_TwoNodesWritingConcurrentlyToOneMariaDb_IdsExactUniqueAndContiguous()
    {
        await using var nodeA = await StoreFixture.CreateAsync(DatabaseProvider.MySql);
        await using var nodeB = await StoreFixture.AnotherNodeAsync(nodeA, "node-b");
        await nodeA.SeedRoomAsync("ROOM01", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7");
        IMessageStore[] stores = [nodeA.Services.GetRequiredService<IMessageStore>(), nodeB.Services.GetRequiredService<IMessageStore>()];

        // Eight senders, four on each node's writer: the two writers commit batches at the same time.
        var sent = await Task.WhenAll(Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            var store = stores[s % 2];
            var mine = new List<(long Id, string Content)>();
            for (var i = 0; i < 150; i++)
            {
                var content = $"s{s}-{i}";
                mine.Add(((await store.AppendAsync(Message($"s{s}", content), CancellationToken.None)).Id.Value, content));
            }

            return mine;
        })));

        var rows = (await nodeA.MessagesAsync()).ToDictionary(r => r.Id);
        var all = sent.SelectMany(x => x).ToList();
        Assert.Equal(1200, rows.Count);
        Assert.Equal(all.Count, all.Select(m => m.Id).Distinct().Count());
        foreach (var (id, content) in all)
        {
            Assert.Equal(content, rows[id].MessageContent);
        }

        Assert.Equal(Enumerable.Range(1, 1200).Select(i => (long)i), rows.Keys.Order());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_DirectMessage_StoresTargetAndType(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a", "b");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        await store.AppendAsync(Message("a", "psst", to: "b"), CancellationToken.None);

        var row = Assert.Single(await fixture.MessagesAsync());
        Assert.Equal(("b", "direct"), (row.ToDeviceId, row.MessageType));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_BatchFails_EverySenderInItGetsTheFailureAndNothingIsStored(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        // An unknown sender breaks the foreign key: the batch holding it must fail as a whole.
        var results = await Task.WhenAll(
            Capture(store.AppendAsync(Message("a", "ok?"), CancellationToken.None)),
            Capture(store.AppendAsync(Message("nobody", "bad"), CancellationToken.None)));

        Assert.Contains(results, r => r is not null);
        var stored = await fixture.MessagesAsync();
        Assert.Equal(results.Count(r => r is null), stored.Count);

        // The store keeps working after a failed batch.
        await store.AppendAsync(Message("a", "after"), CancellationToken.None);
        Assert.Contains(await fixture.MessagesAsync(), m => m.MessageContent == "after");
    }

    private static async Task<Exception?> Capture(ValueTask<StoredMessage> append)
    {
        try
        {
            await append;
            return null;
        }
        catch (System.Data.Common.DbException ex)
        {
            return ex;
        }
    }
}

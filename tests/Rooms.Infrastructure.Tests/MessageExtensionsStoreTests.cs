using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Persistence;
using Rooms.Infrastructure.Persistence.Rows;

namespace Rooms.Infrastructure.Tests;

/// <summary>What the extensions need of storage: resends recognized by the database, each room's previous id, keyset history.</summary>
public sealed class MessageExtensionsStoreTests
{
    private static NewMessage Message(string room, string from, string content, string? clientId = null, string? to = null, int recipients = 0) =>
        new(new RoomId(room), new DeviceId(from), DeviceId.FromNullable(to), to is null ? MessageType.Broadcast : MessageType.Direct, content, DateTime.UtcNow, clientId, recipients);

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_SameClientIdOfSameDevice_DuplicateWithFirstIdAndRecipientsStoredOnce(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a", "b");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        var first = await store.AppendAsync(Message("ROOM01", "a", "hello", "c-1", recipients: 3), CancellationToken.None);
        var again = await store.AppendAsync(Message("ROOM01", "a", "hello", "c-1", recipients: 5), CancellationToken.None);
        var otherDevice = await store.AppendAsync(Message("ROOM01", "b", "hello", "c-1"), CancellationToken.None);
        var caseDiffers = await store.AppendAsync(Message("ROOM01", "a", "hello", "C-1"), CancellationToken.None);

        Assert.False(first.Duplicate);
        Assert.Equal(new StoredMessage(first.Id, new MessageId(0), Duplicate: true, Recipients: 3), again);
        Assert.False(otherDevice.Duplicate);
        Assert.False(caseDiffers.Duplicate);
        Assert.Equal(3, (await fixture.MessagesAsync()).Count);
    }

    /// <summary>MariaDB's collations are PAD SPACE ('p' = 'p '): the ids must still be two, or the batch's INSERT hits the key.</summary>
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_ClientIdsDifferingOnlyByTrailingSpaces_AreTwoMessages_InOneBatchToo(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a", "b");
        var store = fixture.Services.GetRequiredService<IMessageStore>();
        var seed = await store.AppendAsync(Message("ROOM01", "a", "seed", "p"), CancellationToken.None);

        var results = await Task.WhenAll(
            new[] { ("a", "p "), ("a", "p  "), ("b", "honest-1"), ("b", "honest-2") }
                .Select(m => store.AppendAsync(Message("ROOM01", m.Item1, $"content {m.Item2}", m.Item2), CancellationToken.None).AsTask()));
        var resend = await store.AppendAsync(Message("ROOM01", "a", "content p ", "p "), CancellationToken.None);

        Assert.All(results, r => Assert.True(r.IsNew));
        Assert.Equal(5, (await fixture.MessagesAsync()).Count);
        Assert.Equal(new StoredMessage(results[0].Id, new MessageId(0), Duplicate: true), resend);
        Assert.False(seed.Duplicate);
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_ClientIdReusedForAnotherRoomTargetOrContent_ConflictNothingStored(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a", "b");
        await fixture.SeedRoomAsync("ROOM02");
        var store = fixture.Services.GetRequiredService<IMessageStore>();
        var first = await store.AppendAsync(Message("ROOM01", "a", "hello", "c-1"), CancellationToken.None);

        var otherContent = await store.AppendAsync(Message("ROOM01", "a", "goodbye", "c-1"), CancellationToken.None);
        var otherRoom = await store.AppendAsync(Message("ROOM02", "a", "hello", "c-1"), CancellationToken.None);
        var otherTarget = await store.AppendAsync(Message("ROOM01", "a", "hello", "c-1", to: "b"), CancellationToken.None);
        var resend = await store.AppendAsync(Message("ROOM01", "a", "hello", "c-1"), CancellationToken.None);

        Assert.All([otherContent, otherRoom, otherTarget], r => Assert.True(r.Conflict));
        Assert.True(resend.Duplicate);
        Assert.Equal(first.Id.Value, Assert.Single(await fixture.MessagesAsync()).Id);
    }

    /// <summary>One row the database refuses fails its own sender only; the rest of its batch is stored.</summary>
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_OneRowOfABatchRefused_OnlyItsSenderFails(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        // "ghost" is no device: its row breaks the foreign key, in whichever batch it lands.
        var sends = Enumerable.Range(0, 30)
            .Select(i => store.AppendAsync(Message("ROOM01", i == 15 ? "ghost" : "a", $"m{i}"), CancellationToken.None).AsTask())
            .ToList();
        await Task.WhenAll(sends.Select(s => s.ContinueWith(_ => { }, TaskScheduler.Default)));

        Assert.True(sends[15].IsFaulted);
        Assert.All(sends.Where((_, i) => i != 15), s => Assert.True(s.IsCompletedSuccessfully));
        Assert.Equal(29, (await fixture.MessagesAsync()).Count);
    }

    /// <summary>A page is bounded in bytes where it is read: forward pages keep their oldest messages, backward ones their newest.</summary>
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task HistoryPage_OverTheByteBound_CutInItsDirection_AtLeastOneMessage(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        await using (var db = fixture.Database.OpenContext())
        {
            db.Messages.AddRange(Enumerable.Range(1, 5).Select(i => new MessageRow
            {
                RoomId = "ROOM01", FromDeviceId = "a", MessageType = "broadcast", MessageContent = new string((char)('0' + i), 1_000), SentAt = DateTime.UtcNow,
            }));
            await db.SaveChangesAsync();
        }

        var history = fixture.Services.GetRequiredService<IMessageHistory>();
        var (forward, moreForward) = await history.PageAsync(new RoomId("ROOM01"), new DeviceId("a"), new MessageId(0), 500, 6_500, CancellationToken.None);
        var (backward, moreBackward) = await history.PageBeforeAsync(new RoomId("ROOM01"), new DeviceId("a"), new MessageId(long.MaxValue), 500, 6_500, CancellationToken.None);
        var (single, _) = await history.PageAsync(new RoomId("ROOM01"), new DeviceId("a"), new MessageId(0), 500, 10, CancellationToken.None);

        // 1 000 characters count as 3 000 bytes: two fit in 6 500.
        Assert.Equal(["1", "2"], forward.Select(m => m.Content[..1]));
        Assert.Equal(["4", "5"], backward.Select(m => m.Content[..1]));
        Assert.True(moreForward && moreBackward);
        Assert.Single(single);
    }

    /// <summary>
    /// A page reads what the asker may see, not the room: with 2 000 directs between two other devices, the reads of a
    /// page of 10 touch a few dozen index entries (MariaDB's own count, Handler_read_*), where one filtered scan of the
    /// room read every hidden row.
    /// </summary>
    [Fact]
    public async Task HistoryPage_RoomFullOfOtherDevicesDirects_ReadsOnlyVisibleRows()
    {
        await using var fixture = await StoreFixture.CreateAsync(DatabaseProvider.MySql);
        await fixture.SeedRoomAsync("ROOM01", "asker", "x", "y");
        await using (var db = fixture.Database.OpenContext())
        {
            db.Messages.AddRange(Enumerable.Range(0, 2_000).Select(i => Row(i % 2 == 0 ? "x" : "y", i % 2 == 0 ? "y" : "x", $"hidden {i}")));
            db.Messages.AddRange(Row("x", null, "for all"), Row("y", "asker", "for asker"), Row("asker", "x", "from asker"));
            await db.SaveChangesAsync();
        }

        await using var reader = fixture.Database.OpenContext();
        await reader.Database.OpenConnectionAsync();
        var before = await HandlerReadsAsync(reader);
        var seen = new List<string>();
        foreach (var share in MessageHistory.VisibleShares(reader, new RoomId("ROOM01"), new DeviceId("asker"), limit: 10, forward: true, cursor: new MessageId(0)))
        {
            seen.AddRange(await share.Select(m => m.MessageContent).ToListAsync());
        }

        var reads = await HandlerReadsAsync(reader) - before;
        Assert.Equal(["for all", "for asker", "from asker"], seen.Order());
        Assert.True(reads < 100, $"{reads} index rows read for a page of 3 visible messages among 2 003");

        static MessageRow Row(string from, string? to, string content) => new()
        {
            RoomId = "ROOM01", FromDeviceId = from, ToDeviceId = to, MessageType = to is null ? "broadcast" : "direct", MessageContent = content, SentAt = DateTime.UtcNow,
        };
    }

    private static async Task<long> HandlerReadsAsync(RoomsDbContext db)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_key', 'Handler_read_next', 'Handler_read_prev', 'Handler_read_first', 'Handler_read_last')";
        await using var result = await command.ExecuteReaderAsync();
        long total = 0;
        while (await result.ReadAsync())
        {
            total += long.Parse(result.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
        }

        return total;
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_ResendInTheSameBatch_OneRowBothGetItsId(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => store.AppendAsync(Message("ROOM01", "a", "x", "same"), CancellationToken.None).AsTask()));

        Assert.Single(await fixture.MessagesAsync());
        Assert.Single(results.Select(r => r.Id).Distinct());
        Assert.Equal(19, results.Count(r => r.Duplicate));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_PreviousIdInRoom_ChainsEachRoomsMessages(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        await fixture.SeedRoomAsync("ROOM02", "b");
        var store = fixture.Services.GetRequiredService<IMessageStore>();

        var stored = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            store.AppendAsync(i % 2 == 0 ? Message("ROOM01", "a", $"{i}") : Message("ROOM02", "b", $"{i}"), CancellationToken.None).AsTask()));

        var rows = (await fixture.MessagesAsync()).ToDictionary(r => r.Id);
        foreach (var room in new[] { "ROOM01", "ROOM02" })
        {
            var ids = rows.Values.Where(r => r.RoomId == room).Select(r => r.Id).Order().ToList();
            var previous = stored.Where(s => rows[s.Id.Value].RoomId == room).ToDictionary(s => s.Id.Value, s => s.PreviousIdInRoom.Value);
            Assert.Equal([0L, .. ids[..^1]], ids.Select(id => previous[id]));
        }
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task History_PageBetweenAndLastId_ByKeyWithVisibility(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a", "b", "c");
        await fixture.SeedRoomAsync("ROOM02", "z");
        var store = fixture.Services.GetRequiredService<IMessageStore>();
        var history = fixture.Services.GetRequiredService<IMessageHistory>();
        var ids = new List<long>();
        foreach (var message in new[]
        {
            Message("ROOM01", "a", "b1"), Message("ROOM01", "a", "a to c", to: "c"), Message("ROOM02", "z", "elsewhere"),
            Message("ROOM01", "c", "c to b", to: "b"), Message("ROOM01", "a", "b2"),
        })
        {
            ids.Add((await store.AppendAsync(message, CancellationToken.None)).Id.Value);
        }

        var (page1, more1) = await history.PageAsync(new RoomId("ROOM01"), new DeviceId("b"), new MessageId(0), 2, 1_000_000, CancellationToken.None);
        var (page2, more2) = await history.PageAsync(new RoomId("ROOM01"), new DeviceId("b"), page1[^1].Id, 2, 1_000_000, CancellationToken.None);
        var between = await history.BetweenAsync(new RoomId("ROOM01"), new MessageId(ids[0]), new MessageId(ids[4]), CancellationToken.None);

        Assert.Equal(["b1", "c to b"], page1.Select(m => m.Content));
        Assert.True(more1);
        Assert.Equal(["b2"], page2.Select(m => m.Content));
        Assert.False(more2);
        Assert.Equal(new HistoryMessage(new MessageId(ids[3]), new DeviceId("c"), new DeviceId("b"), MessageType.Direct, "c to b", page1[1].SentAt), page1[1]);
        Assert.Equal(["a to c", "c to b"], between.Select(m => m.Content));
        Assert.Equal(new MessageId(ids[4]), await history.LastIdAsync(new RoomId("ROOM01"), CancellationToken.None));
        Assert.Equal(MessageId.None, await history.LastIdAsync(new RoomId("EMPTY1"), CancellationToken.None));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task Janitor_ForgetsIdsPastWindow_ThenTheSameIdIsANewMessage(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        var store = fixture.Services.GetRequiredService<IMessageStore>();
        var first = await store.AppendAsync(Message("ROOM01", "a", "old", "c-1") with { SentAt = DateTime.UtcNow.AddDays(-2) }, CancellationToken.None);
        await store.AppendAsync(Message("ROOM01", "a", "recent", "c-2"), CancellationToken.None);

        var forgotten = await fixture.Services.GetRequiredService<ClientMessageIdJanitor>().ForgetExpiredAsync(CancellationToken.None);
        var resent = await store.AppendAsync(Message("ROOM01", "a", "old", "c-1"), CancellationToken.None);
        var recentAgain = await store.AppendAsync(Message("ROOM01", "a", "recent", "c-2"), CancellationToken.None);

        Assert.Equal(1, forgotten);
        Assert.False(resent.Duplicate);
        Assert.NotEqual(first.Id, resent.Id);
        Assert.True(recentAgain.Duplicate);
        await using var db = fixture.Database.OpenContext();
        Assert.Equal(2, await db.Set<ClientMessageIdRow>().CountAsync());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AppendAsync_CommitFeed_GetsMessagesInIdOrderBeforeSendersResumeNotDuplicates(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "a");
        var store = fixture.Services.GetRequiredService<IMessageStore>();
        var first = await store.AppendAsync(Message("ROOM01", "a", "first", "dup"), CancellationToken.None);
        fixture.Feed.Clear();

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            var stored = await store.AppendAsync(Message("ROOM01", "a", i == 0 ? "first" : $"m{i}", i == 0 ? "dup" : null), CancellationToken.None);

            // The sender resumes only after its message was handed over.
            Assert.True(stored.Duplicate || fixture.Feed.Contains(stored.Id.Value));
            return stored;
        })));

        var handedOver = fixture.Feed.Ids;
        Assert.Equal(handedOver.Order(), handedOver);
        Assert.Equal(results.Where(r => !r.Duplicate).Select(r => r.Id.Value).Order(), handedOver);
        Assert.Equal(first.Id, Assert.Single(results, r => r.Duplicate).Id);
    }
}

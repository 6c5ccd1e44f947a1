using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;
using Rooms.Domain.RoomAggregate;
using Rooms.Infrastructure.Messaging;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Tests;

/// <summary>
/// A COMMIT that the database carried out but whose answer never arrived (the server died, the connection
/// broke): the store must ask before it answers, or it tells a sender "not delivered" about a stored message.
/// </summary>
public sealed class CommitOutcomeTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task CommitSucceededButItsAnswerWasLost_SenderIsToldStoredAndTheRowIsThereOnce(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "alice");
        var lostAnswer = new LoseTheAnswerOfTheNextCommit();
        var delivered = new RecordingCommitFeed();
        await using var store = new GroupCommitMessageStore(Contexts(fixture, lostAnswer), delivered, fixture.Database.Settings, NullLogger<GroupCommitMessageStore>.Instance);
        await store.StartAsync(CancellationToken.None);

        var stored = await store.AppendAsync(
            new NewMessage(new RoomId("ROOM01"), new DeviceId("alice"), null, MessageType.Broadcast, "kept", DateTime.UtcNow), CancellationToken.None);

        Assert.True(lostAnswer.Fired);
        Assert.False(stored.Duplicate);
        Assert.Equal([stored.Id.Value], delivered.Ids);
        var rows = await fixture.MessagesAsync();
        Assert.Equal(("kept", stored.Id.Value), (Assert.Single(rows).MessageContent, rows[0].Id));
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task CommitFailedForReal_SenderGetsTheErrorAndNothingIsStored(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "alice");
        var failing = new FailTheNextCommit();
        var delivered = new RecordingCommitFeed();
        await using var store = new GroupCommitMessageStore(Contexts(fixture, failing), delivered, fixture.Database.Settings, NullLogger<GroupCommitMessageStore>.Instance);
        await store.StartAsync(CancellationToken.None);

        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await store.AppendAsync(new NewMessage(new RoomId("ROOM01"), new DeviceId("alice"), null, MessageType.Broadcast, "lost", DateTime.UtcNow), CancellationToken.None));

        Assert.Empty(await fixture.MessagesAsync());
        Assert.Empty(delivered.Ids);
    }

    /// <summary>
    /// The HA trial's race: a batch rolled back, another writer reused its first id for the very same message (resent
    /// through another node). The probe used to look at that first row only and acked the whole batch, so another
    /// sender's message was acked and never stored. Only a batch that wrote every one of its rows was committed.
    /// </summary>
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.MySql)]
    public async Task AnUnknownCommit_IsSettledByEveryRowOfTheBatch_NotByAFirstRowAnotherWriterReproduced(DatabaseProvider provider)
    {
        await using var fixture = await StoreFixture.CreateAsync(provider);
        await fixture.SeedRoomAsync("ROOM01", "alice", "bob");
        await using (var store = new GroupCommitMessageStore(new DatabaseGate(fixture.Database.Settings, NullLoggerFactory.Instance, []), new RecordingCommitFeed(), fixture.Database.Settings, NullLogger<GroupCommitMessageStore>.Instance))
        {
            await store.StartAsync(CancellationToken.None);
            await store.AppendAsync(new NewMessage(new RoomId("ROOM01"), new DeviceId("alice"), null, MessageType.Broadcast, "resent elsewhere", DateTime.UtcNow), CancellationToken.None);
        }

        var reused = Assert.Single(await fixture.MessagesAsync()).Id;
        var gate = new DatabaseGate(fixture.Database.Settings, NullLoggerFactory.Instance, []);
        await using var lease = await gate.OpenForWriterAsync(CancellationToken.None);
        var insert = new MultiRowMessageInsert();
        CommitProbe.Row Row(long id, string from, string content) => new(id, "ROOM01", from, content);

        Assert.False(await insert.WasCommittedAsync(lease.Db, new CommitProbe([Row(reused, "alice", "resent elsewhere"), Row(reused + 1, "bob", "never stored")]), CancellationToken.None));
        Assert.True(await insert.WasCommittedAsync(lease.Db, new CommitProbe([Row(reused, "alice", "resent elsewhere")]), CancellationToken.None));
        Assert.False(await insert.WasCommittedAsync(lease.Db, new CommitProbe([Row(reused, "alice", "other content")]), CancellationToken.None));
    }

    private static DatabaseGate Contexts(StoreFixture fixture, IInterceptor interceptor) =>
        new(fixture.Database.Settings, NullLoggerFactory.Instance, [interceptor]);

    /// <summary>Lets the COMMIT happen, then fails as if its answer had been lost on the way back.</summary>
    private sealed class LoseTheAnswerOfTheNextCommit : DbTransactionInterceptor
    {
        public bool Fired { get; private set; }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (Fired)
            {
                return Task.CompletedTask;
            }

            Fired = true;
            throw new InvalidOperationException("Connection lost after COMMIT was sent");
        }
    }

    /// <summary>Rolls the transaction back instead of committing, then fails the commit.</summary>
    private sealed class FailTheNextCommit : DbTransactionInterceptor
    {
        private bool _fired;

        public override async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
        {
            if (_fired)
            {
                return result;
            }

            _fired = true;
            await transaction.RollbackAsync(cancellationToken);
            throw new InvalidOperationException("Connection lost before COMMIT");
        }
    }
}

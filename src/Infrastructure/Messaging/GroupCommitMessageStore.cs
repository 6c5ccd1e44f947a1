using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// The message store: messages are group-committed (<see cref="GroupCommit{TItem, TResult}"/>), each batch one
/// transaction with one multi-row INSERT. Each sender's task completes only after its batch committed; a failed
/// batch fails exactly its own senders, and a row the database refuses fails only its own sender. Committed
/// messages go to the <see cref="ICommitFeed"/> in id order, before their senders resume.
/// </summary>
public sealed partial class GroupCommitMessageStore : IMessageStore, IHostedService, IAsyncDisposable
{
    private readonly DatabaseGate _database;
    private readonly ICommitFeed _feed;
    private readonly ILogger<GroupCommitMessageStore> _logger;
    private readonly GroupCommit<NewMessage, StoredMessage> _commits;
    private readonly MultiRowMessageInsert _insert = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly RoomsMetrics? _metrics;
    private int _disposed;

    /// <summary>A commit slower than this is logged: senders wait for it.</summary>
    private static readonly TimeSpan SlowCommit = TimeSpan.FromMilliseconds(100);

    public GroupCommitMessageStore(
        DatabaseGate database, ICommitFeed feed, DatabaseSettings settings, ILogger<GroupCommitMessageStore> logger, RoomsMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _database = database;
        _feed = feed;
        _metrics = metrics;
        _logger = logger;
        _commits = new GroupCommit<NewMessage, StoredMessage>(
            new GroupCommitSteps<NewMessage, StoredMessage>
            {
                Batch = InsertAsync,
                One = async message => (await InsertAsync([message]))[0],
                // One row the database refuses (a constraint, a value it cannot store) must not fail the other
                // senders' messages; an outage fails the batch.
                RetryAlone = IsRowError,
                // Ids are drawn in queue order; the feed takes them in that order.
                AloneInOrder = true,
                Committed = Committed,
                Split = LogBatchSplit,
                // Counted and reported once per outage by the senders' handlers (StorageOutageLog).
                Failed = LogBatchFailed,
            },
            settings.MessageBatchSize,
            settings.MessageQueueCapacity);
    }

    /// <summary>Whether the single writer still runs (it only ends when the store is disposed, or by a bug).</summary>
    public bool WriterAlive => _commits.Running;

    /// <summary>Starts the single writer; messages appended before wait for it.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _commits.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Nothing: the writer stops when the container is disposed, after the web server stopped, so what the last
    /// connections send during a shutdown is still stored.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<StoredMessage> AppendAsync(NewMessage message, CancellationToken cancellationToken) =>
        _commits.EnqueueAsync(message, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _commits.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task<StoredMessage[]> InsertAsync(IReadOnlyList<NewMessage> messages)
    {
        try
        {
            await using var lease = await _database.OpenForWriterAsync(CancellationToken.None);
            return await _insert.InsertAsync(lease.Db, messages);
        }
        catch (CommitOutcomeUnknownException unknown)
        {
            if (!await WasCommittedAsync(unknown, messages.Count))
            {
                throw unknown.InnerException!;
            }

            return unknown.Results;
        }
    }

    /// <summary>Deliveries first, in id order, on the writer; then the senders resume (acks follow their deliveries).</summary>
    private void Committed(IReadOnlyList<NewMessage> messages, StoredMessage[] stored, TimeSpan elapsed)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (!stored[i].IsNew)
            {
                continue;
            }

            try
            {
                _feed.Committed(messages[i], stored[i]);
            }
            catch (Exception ex)
            {
                // The row is committed: one failed hand-off must not fail the others or the sender.
                LogHandOverFailed(ex, stored[i].Id);
            }

            _metrics?.MessageStored(messages[i].Type.ToName());
        }

        _metrics?.BatchCommitted(messages.Count, elapsed);

        if (elapsed > SlowCommit)
        {
            LogSlowCommit(messages.Count, elapsed.TotalMilliseconds);
        }
    }

    /// <summary>An error about the data of a row, not about the database being reachable: splitting the batch helps.</summary>
    private static bool IsRowError(Exception exception) => exception.GetBaseException() switch
    {
        // Duplicate key, foreign key, data too long, bad string value, column cannot be null.
        MySqlConnector.MySqlException mySql => mySql.Number is 1062 or 1452 or 1406 or 1366 or 1048,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        _ => false,
    };

    /// <summary>
    /// Asks the database, as often as it takes, whether a batch whose COMMIT failed was committed, so that no
    /// sender is told "not delivered" about a message that was stored (and then stores it twice by resending).
    /// Only a node that is stopping gives up; its senders are then told it failed.
    /// </summary>
    private async Task<bool> WasCommittedAsync(CommitOutcomeUnknownException unknown, int count)
    {
        LogOutcomeUnknown(unknown.InnerException!, count);
        var delay = TimeSpan.FromMilliseconds(200);
        try
        {
            while (true)
            {
                try
                {
                    await using var lease = await _database.OpenForWriterAsync(_stopping.Token);
                    var committed = await _insert.WasCommittedAsync(lease.Db, unknown.Probe, _stopping.Token);
                    LogOutcomeKnown(count, committed ? "was committed: its senders are answered as stored" : "was not committed: its senders get an error");
                    return committed;
                }
                catch (Exception ex) when (!_stopping.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    // Still unreachable: ask again a little later.
                }

                await Task.Delay(delay, _stopping.Token);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The commit of {Count} messages failed without saying whether it was carried out; asking the database before answering their senders")]
    private partial void LogOutcomeUnknown(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "The batch of {Count} messages {Outcome}")]
    private partial void LogOutcomeKnown(int count, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow commit: {Count} messages took {Milliseconds} ms; their senders waited as long")]
    private partial void LogSlowCommit(int count, double milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handing message {MessageId} to its recipients failed after it was committed")]
    private partial void LogHandOverFailed(Exception exception, MessageId messageId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database refused a row of a batch of {Count} messages; writing them one at a time")]
    private partial void LogBatchSplit(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committing a batch of {Count} messages failed; their senders get an error")]
    private partial void LogBatchFailed(Exception exception, int count);
}

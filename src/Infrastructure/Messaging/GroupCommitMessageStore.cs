using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rooms.Application.Common;
using Rooms.Application.Ports;
using Rooms.Domain.Messages;
using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Messaging;

/// <summary>
/// Group commit: one writer takes every message that queued up while the previous batch was
/// being committed and writes them in one transaction, as one multi-row INSERT. No timer adds
/// latency: under light load a batch is one message, under heavy load batches grow by themselves.
/// Each sender's task completes only after its batch committed; a failed batch fails exactly its
/// own senders. Committed messages go to the <see cref="ICommitFeed"/> in id order, before their senders resume.
/// </summary>
public sealed partial class GroupCommitMessageStore : IMessageStore, IHostedService, IAsyncDisposable
{
    private readonly IDbContextFactory<RoomsDbContext> _contexts;
    private readonly ICommitFeed _feed;
    private readonly ILogger<GroupCommitMessageStore> _logger;
    private readonly int _maxBatch;
    private readonly Channel<PendingMessage> _queue;
    private Task? _writer;
    private int _disposed;
    private readonly MultiRowMessageInsert _insert = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly RoomsMetrics? _metrics;

    // Reused by the single writer, batch after batch.
    private readonly List<NewMessage> _messages = [];

    /// <summary>A commit slower than this is logged: senders wait for it.</summary>
    private static readonly TimeSpan SlowCommit = TimeSpan.FromMilliseconds(100);

    public GroupCommitMessageStore(
        IDbContextFactory<RoomsDbContext> contexts, ICommitFeed feed, DatabaseSettings settings, ILogger<GroupCommitMessageStore> logger, RoomsMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _contexts = contexts;
        _feed = feed;
        _metrics = metrics;
        _logger = logger;
        _maxBatch = settings.MessageBatchSize;
        _queue = Channel.CreateBounded<PendingMessage>(new BoundedChannelOptions(settings.MessageQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Whether the single writer still runs (it only ends when the store is disposed, or by a bug).</summary>
    public bool WriterAlive => _writer is { IsCompleted: false };

    /// <summary>Starts the single writer; messages appended before wait for it.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _writer ??= Task.Run(WriteLoopAsync);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Nothing: the writer stops when the container is disposed, after the web server stopped, so what the last
    /// connections send during a shutdown is still stored.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask<StoredMessage> AppendAsync(NewMessage message, CancellationToken cancellationToken)
    {
        var pending = new PendingMessage(message);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Committed.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        if (_writer is not null)
        {
            await _writer;
        }

        _stopping.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingMessage>(_maxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            await CommitAsync(batch);
        }
    }

    private async Task CommitAsync(List<PendingMessage> batch)
    {
        var started = Stopwatch.GetTimestamp();
        StoredMessage[] stored;
        try
        {
            await using var db = await _contexts.CreateDbContextAsync();
            _messages.Clear();
            foreach (var pending in batch)
            {
                _messages.Add(pending.Message);
            }

            stored = await _insert.InsertAsync(db, _messages);
        }
        catch (CommitOutcomeUnknownException unknown)
        {
            if (!await WasCommittedAsync(unknown, batch.Count))
            {
                Fail(batch, unknown.InnerException!);
                return;
            }

            stored = unknown.Results;
        }
        catch (Exception ex) when (batch.Count > 1 && IsRowError(ex))
        {
            // One row the database refuses (a constraint, a value it cannot store) must not fail the other senders'
            // messages: the batch is written again one message at a time, so only that row's sender gets the error.
            LogBatchSplit(ex, batch.Count);
            foreach (var pending in batch)
            {
                await CommitAsync([pending]);
            }

            return;
        }
        catch (Exception ex)
        {
            Fail(batch, ex);
            return;
        }

        // Deliveries first, in id order, on this one thread; then the senders resume (acks follow their deliveries).
        for (var i = 0; i < batch.Count; i++)
        {
            if (stored[i].IsNew)
            {
                try
                {
                    _feed.Committed(batch[i].Message, stored[i]);
                }
                catch (Exception ex)
                {
                    // The row is committed: one failed hand-off must not fail the others or the sender.
                    LogHandOverFailed(ex, stored[i].Id);
                }
            }
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Committed.TrySetResult(stored[i]);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (_metrics is not null)
        {
            _metrics.BatchCommitted(batch.Count, elapsed);
            for (var i = 0; i < batch.Count; i++)
            {
                if (stored[i].IsNew)
                {
                    _metrics.MessageStored(batch[i].Message.Type.ToName());
                }
            }
        }

        if (elapsed > SlowCommit)
        {
            LogSlowCommit(batch.Count, elapsed.TotalMilliseconds);
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

    private void Fail(List<PendingMessage> batch, Exception exception)
    {
        // Counted and reported once per outage by the senders' handlers (StorageOutageLog).
        LogBatchFailed(exception, batch.Count);
        foreach (var pending in batch)
        {
            pending.Committed.TrySetException(exception);
        }
    }

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
                    await using var db = await _contexts.CreateDbContextAsync(_stopping.Token);
                    var committed = await _insert.WasCommittedAsync(db, unknown.Probe, _stopping.Token);
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
    private partial void LogHandOverFailed(Exception exception, long messageId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The database refused a row of a batch of {Count} messages; writing them one at a time")]
    private partial void LogBatchSplit(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Committing a batch of {Count} messages failed; their senders get an error")]
    private partial void LogBatchFailed(Exception exception, int count);

    private sealed class PendingMessage(NewMessage message)
    {
        public NewMessage Message { get; } = message;

        // Senders resume on the thread pool, never inline on the single writer.
        public TaskCompletionSource<StoredMessage> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

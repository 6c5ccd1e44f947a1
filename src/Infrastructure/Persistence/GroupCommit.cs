using System.Diagnostics;
using System.Threading.Channels;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Group commit, the one engine behind every batched database write or read (messages, identifies, closes,
/// device reads): a single worker takes every item that queued up while the previous batch was being handled
/// and handles them together, in one transaction (one commit, one fsync) or one query. No timer adds latency:
/// under light load a batch is one item, under heavy load batches grow by themselves. Each caller's task
/// completes only after its batch is done; a failed batch fails exactly its own callers, or, for the failures
/// <see cref="GroupCommitSteps{TItem, TResult}.RetryAlone"/> accepts, is done again one item at a time so one bad
/// item fails alone.
/// </summary>
internal sealed class GroupCommit<TItem, TResult> : IAsyncDisposable
    where TItem : notnull
{
    private readonly GroupCommitSteps<TItem, TResult> _steps;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _queue;
    private Task? _worker;

    // Reused by the single worker, batch after batch.
    private readonly List<Pending> _batch;
    private readonly List<TItem> _items;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    /// <param name="steps">What a batch and a single item are, and what happens around them.</param>
    /// <param name="maxBatch">Items per batch at most.</param>
    /// <param name="capacity">Items that may wait at most (writers then wait); null for no bound.</param>
    public GroupCommit(GroupCommitSteps<TItem, TResult> steps, int maxBatch = 256, int? capacity = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _steps = steps;
        _maxBatch = maxBatch;
        _batch = new List<Pending>(maxBatch);
        _items = new List<TItem>(maxBatch);
        _queue = capacity is { } bound
            ? Channel.CreateBounded<Pending>(new BoundedChannelOptions(bound) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait })
            : Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    }

    /// <summary>Whether the worker runs (it ends only when the engine is disposed, or by a bug).</summary>
    public bool Running => _worker is { IsCompleted: false };

    /// <summary>Starts the worker (its owner's hosted-service start); items queued before wait for it.</summary>
    public void Start() => _worker ??= Task.Run(WorkAsync);

    public async ValueTask<TResult> EnqueueAsync(TItem item, CancellationToken cancellationToken)
    {
        var pending = new Pending(item);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Handles what is queued, then stops the worker.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_worker is not null)
        {
            await _worker;
        }
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        Pending? carried = null;
        while (carried is not null || await reader.WaitToReadAsync())
        {
            _batch.Clear();
            _keys.Clear();
            if (carried is not null)
            {
                Add(carried);
                carried = null;
            }

            while (_batch.Count < _maxBatch && reader.TryRead(out var pending))
            {
                if (_steps.Key is { } key && !_keys.Add(key(pending.Item)))
                {
                    // Equal keys never share a batch, so the later item is stored after the earlier one.
                    carried = pending;
                    break;
                }

                _batch.Add(pending);
            }

            await CommitAsync(_batch);
        }
    }

    private void Add(Pending pending)
    {
        _batch.Add(pending);
        if (_steps.Key is { } key)
        {
            _keys.Add(key(pending.Item));
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        _items.Clear();
        foreach (var pending in batch)
        {
            _items.Add(pending.Item);
        }

        TResult[] results;
        try
        {
            results = batch.Count == 1 ? [await _steps.One(_items[0])] : await _steps.Batch(_items);
        }
        catch (Exception ex) when (batch.Count > 1 && ex is not OperationCanceledException && _steps.RetryAlone(ex))
        {
            // Rolled back as a whole: each item is done again on its own.
            _steps.Split?.Invoke(ex, batch.Count);
            await RetryAloneAsync([.. batch]);
            return;
        }
        catch (Exception ex)
        {
            _steps.Failed?.Invoke(ex, batch.Count);
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(ex);
            }

            return;
        }

        Complete(batch, _items, results, Stopwatch.GetElapsedTime(started));
    }

    private void Complete(List<Pending> batch, IReadOnlyList<TItem> items, TResult[] results, TimeSpan elapsed)
    {
        // Before the callers resume: what follows a commit (deliveries) precedes their answers.
        _steps.Committed?.Invoke(items, results, elapsed);

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(results[i]);
        }
    }

    private async Task RetryAloneAsync(List<Pending> batch)
    {
        if (_steps.AloneInOrder)
        {
            foreach (var pending in batch)
            {
                await CommitAsync([pending]);
            }

            return;
        }

        // Independent items (no consumer depends on their order) are retried together, so an outage costs one
        // round of timeouts, not one per item.
        await Task.WhenAll(batch.Select(async pending =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await _steps.One(pending.Item);
                Complete([pending], [pending.Item], [result], Stopwatch.GetElapsedTime(started));
            }
            catch (Exception ex)
            {
                _steps.Failed?.Invoke(ex, 1);
                pending.Done.TrySetException(ex);
            }
        }));
    }

    private sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        // Callers resume on the thread pool, never inline on the single worker.
        public TaskCompletionSource<TResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What a <see cref="GroupCommit{TItem, TResult}"/> does with a batch, a single item, and around them.</summary>
internal sealed class GroupCommitSteps<TItem, TResult>
{
    /// <summary>Handles two or more items in one transaction or query; the results in the items' order.</summary>
    public required Func<IReadOnlyList<TItem>, Task<TResult[]>> Batch { get; init; }

    /// <summary>Handles one item on its own.</summary>
    public required Func<TItem, Task<TResult>> One { get; init; }

    /// <summary>Which failures of a batch are retried one item at a time (the rest fail the batch's callers); any by default.</summary>
    public Func<Exception, bool> RetryAlone { get; init; } = static _ => true;

    /// <summary>Retries one at a time in queue order (for a consumer that needs the order), rather than all at once.</summary>
    public bool AloneInOrder { get; init; }

    /// <summary>Items with equal keys go into different batches; none by default.</summary>
    public Func<TItem, string>? Key { get; init; }

    /// <summary>Runs on the worker after items are done (with their results and the time taken), before their callers resume.</summary>
    public Action<IReadOnlyList<TItem>, TResult[], TimeSpan>? Committed { get; init; }

    /// <summary>A batch is being retried one item at a time after this failure.</summary>
    public Action<Exception, int>? Split { get; init; }

    /// <summary>These many callers are told of this failure.</summary>
    public Action<Exception, int>? Failed { get; init; }
}

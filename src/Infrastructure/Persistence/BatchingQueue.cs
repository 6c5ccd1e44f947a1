using System.Threading.Channels;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Group commit for writes other than messages (those have <see cref="Messaging.GroupCommitMessageStore"/>),
/// and the same for reads: one worker takes every item that queued up while the previous batch was being
/// handled and handles them together, in one transaction (one commit, one fsync) or one query, so a burst of
/// identifies or disconnects costs a handful of round trips and commits instead of one each. No timer adds
/// latency: under light load a batch is one item. A batch that fails is done again one item at a time, so one
/// bad item (a room id drawn twice, a device raced by another node) fails or retries alone. Items with the
/// same key never share a batch, so the later one is stored after the earlier one (its row id is higher).
/// </summary>
internal sealed class BatchingQueue<TItem, TResult> : IAsyncDisposable
    where TItem : notnull
{
    private const int MaxBatch = 256;

    private readonly Func<IReadOnlyList<TItem>, Task<TResult[]>> _writeBatch;
    private readonly Func<TItem, Task<TResult>> _writeOne;
    private readonly Func<TItem, string> _key;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _writer;

    /// <param name="writeBatch">Handles the items in one transaction or query; results in the items' order.</param>
    /// <param name="writeOne">Handles one item on its own.</param>
    /// <param name="key">Items with equal keys go into different batches.</param>
    public BatchingQueue(Func<IReadOnlyList<TItem>, Task<TResult[]>> writeBatch, Func<TItem, Task<TResult>> writeOne, Func<TItem, string> key)
    {
        _writeBatch = writeBatch;
        _writeOne = writeOne;
        _key = key;
    }

    /// <summary>Starts the worker (its owner's hosted-service start); items written before wait for it.</summary>
    public void Start() => _writer ??= Task.Run(WriteLoopAsync);

    public async Task<TResult> WriteAsync(TItem item, CancellationToken cancellationToken)
    {
        var pending = new Pending(item);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Stored.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer;
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        Pending? carried = null;
        var batch = new List<Pending>(MaxBatch);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (carried is not null || await reader.WaitToReadAsync())
        {
            batch.Clear();
            keys.Clear();
            if (carried is not null)
            {
                batch.Add(carried);
                keys.Add(_key(carried.Item));
                carried = null;
            }

            while (batch.Count < MaxBatch && reader.TryRead(out var pending))
            {
                if (!keys.Add(_key(pending.Item)))
                {
                    carried = pending;
                    break;
                }

                batch.Add(pending);
            }

            await CommitAsync(batch);
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        if (batch.Count > 1)
        {
            try
            {
                var results = await _writeBatch([.. batch.Select(p => p.Item)]);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Stored.TrySetResult(results[i]);
                }

                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Rolled back as a whole: each item is done again on its own below.
            }
        }

        await Task.WhenAll(batch.Select(async pending =>
        {
            try
            {
                pending.Stored.TrySetResult(await _writeOne(pending.Item));
            }
            catch (Exception ex)
            {
                pending.Stored.TrySetException(ex);
            }
        }));
    }

    private sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        public TaskCompletionSource<TResult> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

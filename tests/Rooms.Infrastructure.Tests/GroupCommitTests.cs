using Rooms.Infrastructure.Persistence;

namespace Rooms.Infrastructure.Tests;

/// <summary>The one group-commit engine behind messages, identifies, closes and device reads, without a database.</summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ItemsQueuedDuringACommit_AreCommittedTogetherAsTheNextBatch()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new List<int[]>();
        await using var engine = new GroupCommit<int, int>(new()
        {
            Batch = async items => { lock (batches) { batches.Add([.. items]); } await gate.Task; return [.. items.Select(i => i * 10)]; },
            One = async item => { lock (batches) { batches.Add([item]); } await gate.Task; return item * 10; },
        });
        engine.Start();

        var first = engine.EnqueueAsync(1, CancellationToken.None).AsTask();
        await Eventually(() => batches.Count == 1);
        var rest = Enumerable.Range(2, 5).Select(i => engine.EnqueueAsync(i, CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();

        Assert.Equal(10, await first.WaitAsync(Wait));
        var results = await Task.WhenAll(rest).WaitAsync(Wait);
        Assert.Equal([20, 30, 40, 50, 60], results);
        Assert.Equal([[1], [2, 3, 4, 5, 6]], batches);
    }

    [Fact]
    public async Task ABatchFailureItRetriesAlone_FailsOnlyTheBadItem()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = new GroupCommit<int, int>(new()
        {
            Batch = async items => { await gate.Task; throw new InvalidDataException("one row is bad"); },
            One = async item => { await gate.Task; return item == 3 ? throw new InvalidDataException("bad row") : item; },
        });
        engine.Start();

        var blocker = engine.EnqueueAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(50);
        var batch = Enumerable.Range(1, 4).Select(i => engine.EnqueueAsync(i, CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();

        Assert.Equal(0, await blocker.WaitAsync(Wait));
        Assert.Equal(1, await batch[0].WaitAsync(Wait));
        Assert.Equal(2, await batch[1].WaitAsync(Wait));
        await Assert.ThrowsAsync<InvalidDataException>(() => batch[2].WaitAsync(Wait));
        Assert.Equal(4, await batch[3].WaitAsync(Wait));
    }

    [Fact]
    public async Task ABatchFailureItDoesNotRetryAlone_FailsEveryCallerOfTheBatch_AndNothingIsRetried()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var singles = 0;
        var failed = new List<int>();
        await using var engine = new GroupCommit<int, int>(new()
        {
            Batch = async items => { await gate.Task; throw new TimeoutException("database unreachable"); },
            One = async item => { await gate.Task; if (item > 0) { Interlocked.Increment(ref singles); } return item; },
            RetryAlone = ex => ex is InvalidDataException,
            Failed = (_, count) => { lock (failed) { failed.Add(count); } },
        });
        engine.Start();

        var blocker = engine.EnqueueAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(50);
        var batch = Enumerable.Range(1, 3).Select(i => engine.EnqueueAsync(i, CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();

        await blocker.WaitAsync(Wait);
        foreach (var caller in batch)
        {
            await Assert.ThrowsAsync<TimeoutException>(() => caller.WaitAsync(Wait));
        }

        Assert.Equal(0, singles);
        Assert.Equal([3], failed);
    }

    [Fact]
    public async Task EqualKeys_NeverShareABatch_AndKeepTheirOrder()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batches = new List<string[]>();
        await using var engine = new GroupCommit<string, string>(new()
        {
            Batch = async items => { lock (batches) { batches.Add([.. items]); } await gate.Task; return [.. items]; },
            One = async item => { lock (batches) { batches.Add([item]); } await gate.Task; return item; },
            Key = item => item[..1],
        });
        engine.Start();

        var blocker = engine.EnqueueAsync("z0", CancellationToken.None).AsTask();
        await Eventually(() => batches.Count == 1);
        var rest = new[] { "a1", "b1", "a2", "c1", "a3" }.Select(i => engine.EnqueueAsync(i, CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();
        await Task.WhenAll([blocker, .. rest]).WaitAsync(Wait);

        Assert.Equal([["z0"], ["a1", "b1"], ["a2", "c1"], ["a3"]], batches);
    }

    [Fact]
    public async Task Committed_RunsBeforeItsCallersResume_InQueueOrder_AlsoWhenABatchIsRetriedAloneInOrder()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<(int Item, bool CallerDone)>();
        var callers = new Dictionary<int, Task<int>>();
        await using var engine = new GroupCommit<int, int>(new()
        {
            Batch = async items => { await gate.Task; throw new InvalidDataException("split me"); },
            One = async item => { await gate.Task; return item; },
            AloneInOrder = true,
            Committed = (items, _, _) =>
            {
                lock (callers)
                {
                    seen.AddRange(items.Select(i => (i, callers[i].IsCompleted)));
                }
            },
        });
        engine.Start();

        lock (callers)
        {
            foreach (var i in Enumerable.Range(0, 6))
            {
                callers[i] = engine.EnqueueAsync(i, CancellationToken.None).AsTask();
            }
        }

        gate.SetResult();
        await Task.WhenAll(callers.Values).WaitAsync(Wait);

        Assert.Equal(Enumerable.Range(0, 6).Select(i => (i, false)), seen);
    }

    [Fact]
    public async Task Dispose_HandlesWhatIsQueued_ThenStops()
    {
        var handled = 0;
        var engine = new GroupCommit<int, int>(new()
        {
            Batch = async items => { await Task.Delay(20); Interlocked.Add(ref handled, items.Count); return [.. items]; },
            One = async item => { await Task.Delay(20); Interlocked.Increment(ref handled); return item; },
        });
        engine.Start();
        var callers = Enumerable.Range(0, 50).Select(i => engine.EnqueueAsync(i, CancellationToken.None).AsTask()).ToArray();

        await engine.DisposeAsync();

        Assert.False(engine.Running);
        Assert.Equal(50, handled);
        Assert.All(callers, c => Assert.True(c.IsCompletedSuccessfully));
        await Assert.ThrowsAnyAsync<Exception>(() => engine.EnqueueAsync(99, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ABoundedQueue_MakesWritersWait_WhenFull()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = new GroupCommit<int, int>(
            new() { Batch = async items => { await gate.Task; return [.. items]; }, One = async item => { await gate.Task; return item; } },
            maxBatch: 2,
            capacity: 2);
        engine.Start();

        var taken = engine.EnqueueAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(50);
        var queued = new[] { engine.EnqueueAsync(1, CancellationToken.None).AsTask(), engine.EnqueueAsync(2, CancellationToken.None).AsTask() };
        using var full = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.EnqueueAsync(3, full.Token).AsTask());

        gate.SetResult();
        var results = await Task.WhenAll([taken, .. queued]).WaitAsync(Wait);
        Assert.Equal([0, 1, 2], results);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(5);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rooms.Application.Ports;
using Rooms.Domain.Connections;

namespace Rooms.Infrastructure.Persistence;

/// <summary>
/// Keeps trying to store the closes that failed, every <see cref="RetryInterval"/>, until each is stored.
/// A close is idempotent (it only sets <c>disconnected_at</c> where it is still empty), so a retry after an
/// unknown outcome is harmless. What is still pending when the node stops is closed by the node's next
/// start, at its last heartbeat (<see cref="Nodes.NodeLifecycle"/>).
/// </summary>
public sealed partial class ConnectionCloseRetries : IConnectionCloseRetries, IHostedService, IAsyncDisposable
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<ConnectionId, DateTime> _pending = new();
    private readonly IRoomRepository _repository;
    private readonly ILogger<ConnectionCloseRetries> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private int _disposed;

    public ConnectionCloseRetries(IRoomRepository repository, ILogger<ConnectionCloseRetries> logger)
    {
        _repository = repository;
        _logger = logger;
    }

    public int Pending => _pending.Count;

    public void Add(ConnectionId connection, DateTime disconnectedAt) => _pending[connection] = disconnectedAt;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop ??= Task.Run(RetryLoopAsync);
        return Task.CompletedTask;
    }

    /// <summary>Nothing: the loop stops when the container is disposed, after the web server stopped (see <see cref="DisposeAsync"/>).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        // Registered under two service types, so disposed twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stopping.Dispose();
        if (!_pending.IsEmpty)
        {
            LogLeftOpen(_pending.Count);
        }
    }

    private async Task RetryLoopAsync()
    {
        using var timer = new PeriodicTimer(RetryInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await RetryPendingAsync(_stopping.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private async Task RetryPendingAsync(CancellationToken cancellationToken)
    {
        var stored = 0;
        foreach (var (connection, disconnectedAt) in _pending.OrderBy(p => p.Key))
        {
            try
            {
                await _repository.CloseConnectionAsync(connection, disconnectedAt, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Still down: the outage is already reported; try again next interval.
                break;
            }

            _pending.TryRemove(connection, out _);
            stored++;
        }

        if (stored > 0)
        {
            LogStored(stored, _pending.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored {Count} disconnects that had failed ({Pending} still pending)")]
    private partial void LogStored(int count, int pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping with {Count} connections not closed: this node's next start closes them at its last heartbeat")]
    private partial void LogLeftOpen(int count);
}

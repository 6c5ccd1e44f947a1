using MediatR;

namespace Rooms.Application.Common;

/// <summary>A request whose handler stores or reads data: a storage failure under it is the client's "try again".</summary>
public interface IUsesStorage
{
    /// <summary>What the outage log and the metric call it (<c>identify</c>, <c>message</c>, ...).</summary>
    static abstract string Operation { get; }

    /// <summary>The error the client gets, e.g. <c>Message not delivered: storage unavailable, try again</c>.</summary>
    static abstract string StorageFailure { get; }
}

/// <summary>
/// The one storage-failure policy (after eShop's TransactionBehavior): when the database fails under a handler, its
/// client is told to try again, the failure is counted, and the outage is logged once (<see cref="StorageOutageLog"/>).
/// Only storage failures: any other exception is a bug, which the host turns into an error frame and a log line.
/// </summary>
public sealed class StorageFailureBehavior<TRequest, TValue>(StorageOutageLog outage, RoomsMetrics metrics)
    : IPipelineBehavior<TRequest, Result<TValue>>
    where TRequest : IRequest<Result<TValue>>, IUsesStorage
{
    public async Task<Result<TValue>> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<Result<TValue>> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            var result = await next();
            outage.Succeeded();
            return result;
        }
        catch (Exception ex) when (StorageOutageLog.IsStorageFailure(ex))
        {
            outage.Failed(TRequest.Operation, ex);
            metrics.StorageFailed(TRequest.Operation);
            return Result<TValue>.Fail(TRequest.StorageFailure);
        }
    }
}

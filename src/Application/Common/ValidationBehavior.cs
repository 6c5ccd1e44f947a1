using FluentValidation;
using MediatR;
using Microsoft.Extensions.Logging;

namespace Rooms.Application.Common;

/// <summary>
/// Runs the request's FluentValidation validators (none, one or more) before its handler. A failure is the
/// client's mistake: it becomes a failed <see cref="Result{T}"/> naming the field, logged at Warning (sampled, so a
/// client repeating it cannot flood the log).
/// </summary>
public sealed partial class ValidationBehavior<TRequest, TValue>(
    IEnumerable<IValidator<TRequest>> validators,
    ILogger<ValidationBehavior<TRequest, TValue>> logger) : IPipelineBehavior<TRequest, Result<TValue>>
    where TRequest : IRequest<Result<TValue>>
{
    private readonly LogSampler _sampler = new();

    public Task<Result<TValue>> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<Result<TValue>> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        string? error = null;
        foreach (var validator in validators)
        {
            var validation = validator.Validate(request);
            if (!validation.IsValid)
            {
                error = validation.Errors[0].ErrorMessage;
                break;
            }
        }

        if (error is null)
        {
            return next();
        }

        if (_sampler.ShouldLog(typeof(TRequest).Name, out var leftOut))
        {
            LogRejected(typeof(TRequest).Name, LogSampler.Shorten(error), leftOut);
        }

        return Task.FromResult(Result<TValue>.Fail(error));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Request}: {Error} ({LeftOut} more rejections not logged since the last line)")]
    private partial void LogRejected(string request, string error, int leftOut);
}

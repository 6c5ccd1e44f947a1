using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;

namespace Rooms.Application.Messages.History;

/// <summary>The stored messages of the asker's room after <paramref name="AfterMessageId"/> (a string of digits, or none: from the start).</summary>
/// <param name="Limit">1-500; null asks for the default (100).</param>
public sealed record HistoryQuery(ClientSession Session, string? AfterMessageId, int? Limit) : IRequest<Result<HistoryDto>>
{
    /// <summary>The cursor as a number; valid after validation.</summary>
    public long AfterId => AfterMessageId is null ? 0 : long.Parse(AfterMessageId, System.Globalization.CultureInfo.InvariantCulture);
}

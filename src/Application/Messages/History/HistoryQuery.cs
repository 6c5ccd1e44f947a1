using System.Globalization;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Sessions;
using Rooms.Domain.Messages;

namespace Rooms.Application.Messages.History;

/// <summary>
/// A page of the stored messages of the asker's room, oldest first: forward after <paramref name="AfterMessageId"/> (or
/// from the start), or backward: the newest before <paramref name="BeforeMessageId"/>, or the newest of all when
/// <paramref name="Latest"/>. Cursors are strings of digits.
/// </summary>
/// <param name="Limit">1-500; null asks for the default (100).</param>
public sealed record HistoryQuery(ClientSession Session, string? AfterMessageId, int? Limit, string? BeforeMessageId = null, bool Latest = false)
    : IRequest<Result<HistoryDto>>, IUsesStorage
{
    public static string Operation => "history";

    public static string StorageFailure => "History failed: storage unavailable, try again";

    /// <summary>The forward cursor as a number; valid after validation.</summary>
    public MessageId AfterId => AfterMessageId is null ? MessageId.None : new(long.Parse(AfterMessageId, CultureInfo.InvariantCulture));

    /// <summary>Pages backward (<c>before_message_id</c> or <c>latest</c>).</summary>
    public bool Backward => BeforeMessageId is not null || Latest;

    /// <summary>The backward cursor as a number (everything, for <c>latest</c>); valid after validation.</summary>
    public MessageId BeforeId => new(BeforeMessageId is null ? long.MaxValue : long.Parse(BeforeMessageId, CultureInfo.InvariantCulture));
}

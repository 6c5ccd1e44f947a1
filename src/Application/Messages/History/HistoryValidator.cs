using FluentValidation;
using Rooms.Application.Common;
using Rooms.Domain.Messages;

namespace Rooms.Application.Messages.History;

public sealed class HistoryValidator : AbstractValidator<HistoryQuery>
{
    public HistoryValidator()
    {
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(q => q.Session.IsIdentified).Equal(true).WithMessage(FieldRules.IdentifyFirst);

        RuleFor(q => q.AfterMessageId)
            .Must(MessageId.IsValid).When(q => q.AfterMessageId is not null)
            .WithMessage("'after_message_id' must be a message id: a string of digits, e.g. \"4790\"");

        RuleFor(q => q.BeforeMessageId)
            .Must(MessageId.IsValid).When(q => q.BeforeMessageId is not null)
            .WithMessage("'before_message_id' must be a message id: a string of digits, e.g. \"4790\"");

        RuleFor(q => q)
            .Must(q => (q.AfterMessageId is null ? 0 : 1) + (q.BeforeMessageId is null ? 0 : 1) + (q.Latest ? 1 : 0) <= 1)
            .WithName("history")
            .WithMessage("Give one of 'after_message_id' (page forward), 'before_message_id' (page backward) or \"latest\": true (the newest messages)");

        RuleFor(q => q.Limit)
            .InclusiveBetween(1, ProtocolSettings.MaxHistoryLimit).When(q => q.Limit is not null)
            .WithMessage($"'limit' must be a whole number from 1 to {ProtocolSettings.MaxHistoryLimit}");
    }
}

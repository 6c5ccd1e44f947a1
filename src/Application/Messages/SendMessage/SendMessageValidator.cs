using FluentValidation;
using Rooms.Application.Common;
using Rooms.Domain;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;

namespace Rooms.Application.Messages.SendMessage;

public sealed class SendMessageValidator : AbstractValidator<SendMessageCommand>
{
    public SendMessageValidator(ProtocolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        RuleLevelCascadeMode = CascadeMode.Stop;

        RuleFor(c => c.Session.IsIdentified).Equal(true).WithMessage(FieldRules.IdentifyFirst);

        RuleFor(c => c.Content)
            .NotEmpty().WithMessage("'content' is required and must be a non-empty string")
            .MaximumLength(settings.MaxContentLength)
            .WithMessage($"'content' must be at most {settings.MaxContentLength} characters");

        RuleFor(c => c.TargetDeviceId)
            .Must(DeviceId.IsValid).When(c => c.TargetDeviceId is not null)
            .WithMessage($"'target_device_id' must be {DeviceId.Rule}");

        RuleFor(c => c.ClientMessageId)
            .Must(ClientMessageId.IsValid).When(c => c.ClientMessageId is not null)
            .WithMessage($"'id' must be 1-{ProtocolLimits.ClientMessageIdMaxLength} characters without control or invisible formatting characters");

        RuleFor(c => c.Timestamp)
            .Must(FieldRules.IsIsoTimestamp).When(c => c.Timestamp is not null)
            .WithMessage("'timestamp' must be an ISO-8601 date-time, e.g. 2024-01-20T12:34:56Z");
    }
}

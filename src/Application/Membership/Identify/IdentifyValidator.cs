using FluentValidation;
using Rooms.Application.Common;
using Rooms.Domain;
using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Membership.Identify;

public sealed class IdentifyValidator : AbstractValidator<IdentifyCommand>
{
    public IdentifyValidator()
    {
        RuleFor(c => c.Session.IsIdentified).Equal(false)
            .WithMessage("Already identified: one identify per connection");

        RuleFor(c => c.DeviceId)
            .NotEmpty().WithMessage("'device_id' is required")
            .MaximumLength(DeviceId.MaxLength)
            .WithMessage($"'device_id' must be at most {DeviceId.MaxLength} characters")
            .Must(DeviceId.IsValid).WithMessage("'device_id' may contain only A-Z a-z 0-9 _ - . :");

        RuleFor(c => c.Identity)
            .NotEmpty().WithMessage("'identity' is required")
            .MaximumLength(ProtocolLimits.IdentityMaxLength)
            .WithMessage($"'identity' must be at most {ProtocolLimits.IdentityMaxLength} characters")
            .Must(FieldRules.IsVisibleText).WithMessage("'identity' must not contain control characters or invisible formatting characters (bidirectional overrides, zero-width characters, line separators)");

        RuleFor(c => c.RoomId)
            .Must(RoomId.IsValid!).When(c => c.RoomId is not null)
            .WithMessage($"'room_id' must be {RoomId.Rule}");
    }
}

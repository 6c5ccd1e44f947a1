using FluentValidation;

namespace Rooms.Application.Connections.Disconnect;

public sealed class DisconnectValidator : AbstractValidator<DisconnectCommand>
{
    public DisconnectValidator()
    {
        RuleFor(c => c.Session).NotNull();
    }
}

using FluentValidation;
using MediatR;
using Rooms.Application.Common;
using Rooms.Application.Contracts;
using Rooms.Application.Membership;
using Rooms.Application.Ports;
using Rooms.Application.Sessions;

namespace Rooms.Application.Messages.Typing;

/// <summary><c>{"type":"typing"}</c>: tells the room's other members, on every node, that this device is typing (docs/protocol.md). Not stored.</summary>
public sealed record TypingCommand(ClientSession Session) : IRequest<Result<TypingSentDto>>;

public sealed class TypingValidator : AbstractValidator<TypingCommand>
{
    public TypingValidator()
    {
        RuleFor(c => c.Session.IsIdentified).Equal(true).WithMessage(FieldRules.IdentifyFirst);
    }
}

public sealed class TypingHandler(RoomPresence presence, IRoomHub hub) : IRequestHandler<TypingCommand, Result<TypingSentDto>>
{
    public async Task<Result<TypingSentDto>> Handle(TypingCommand request, CancellationToken cancellationToken)
    {
        var (roomId, member) = (request.Session.RoomId, request.Session.IdentifiedMember);
        hub.SendEvent(roomId, member.DeviceId, new TypingEventDto(roomId.Value, member.DeviceId.Value, member.Identity));
        return Result<TypingSentDto>.Ok(new TypingSentDto(roomId.Value, await presence.CountOthersAsync(roomId, member.DeviceId, cancellationToken)));
    }
}

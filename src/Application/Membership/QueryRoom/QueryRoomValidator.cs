using FluentValidation;
using Rooms.Application.Common;

namespace Rooms.Application.Membership.QueryRoom;

public sealed class QueryRoomValidator : AbstractValidator<QueryRoomQuery>
{
    public QueryRoomValidator()
    {
        RuleFor(q => q.Session.IsIdentified).Equal(true).WithMessage(FieldRules.IdentifyFirst);
    }
}

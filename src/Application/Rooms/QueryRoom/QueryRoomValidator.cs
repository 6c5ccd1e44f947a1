using FluentValidation;
using Rooms.Application.Common;

namespace Rooms.Application.Rooms.QueryRoom;

public sealed class QueryRoomValidator : AbstractValidator<QueryRoomQuery>
{
    public QueryRoomValidator()
    {
        RuleFor(q => q.Session.IsIdentified).Equal(true).WithMessage(FieldRules.IdentifyFirst);
    }
}

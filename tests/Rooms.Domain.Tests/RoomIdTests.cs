using System.Text.RegularExpressions;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Domain.Tests;

public sealed class RoomIdTests
{
    [Fact]
    public void NewCandidate_Always_IsSixCharactersOfUppercaseLettersAndDigits()
    {
        for (var i = 0; i < 1000; i++)
        {
            Assert.Matches(new Regex("^[A-Z0-9]{6}$"), RoomId.NewCandidate());
        }
    }

    [Fact]
    public void NewCandidate_LengthGiven_ThatManyCharacters() =>
        Assert.Matches(new Regex("^[A-Z0-9]{12}$"), RoomId.NewCandidate(12));

    [Fact]
    public void NewCandidate_ManyDraws_AreSpreadOut()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => RoomId.NewCandidate()).ToHashSet();

        Assert.True(ids.Count > 990, $"only {ids.Count} distinct ids in 1000 draws");
    }

    [Theory]
    [InlineData("ABC123")]
    [InlineData("my-room_1")]
    [InlineData("a")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void IsValid_AllowedCharactersAndLength_True(string value) => Assert.True(RoomId.IsValid(value));

    [Theory]
    [InlineData("")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("room 1")]
    [InlineData("room.1")]
    [InlineData("ROOMÄ")]
    [InlineData(null)]
    public void IsValid_BadCharactersOrLength_False(string? value) => Assert.False(RoomId.IsValid(value));
}

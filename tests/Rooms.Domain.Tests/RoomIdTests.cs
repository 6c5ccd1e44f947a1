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
            Assert.Matches(new Regex("^[A-Z0-9]{6}$"), RoomId.NewCandidate().Value);
        }
    }

    [Fact]
    public void NewCandidate_LengthGiven_ThatManyCharacters() =>
        Assert.Matches(new Regex("^[A-Z0-9]{12}$"), RoomId.NewCandidate(12).Value);

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

    [Theory]
    [InlineData("")]
    [InlineData("room 1")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void Constructor_InvalidValue_Throws(string value) => Assert.Throws<ArgumentException>(() => new RoomId(value));

    [Fact]
    public void Equality_SameValue_EqualAndSameText()
    {
        Assert.Equal(new RoomId("R1"), new RoomId("R1"));
        Assert.NotEqual(new RoomId("R1"), new RoomId("r1"));
        Assert.Equal("R1", new RoomId("R1").ToString());
    }
}

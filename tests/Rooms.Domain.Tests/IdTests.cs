using Rooms.Domain.Connections;
using Rooms.Domain.Devices;
using Rooms.Domain.Messages;

namespace Rooms.Domain.Tests;

/// <summary>The id types own their rules: only a valid one can be made, and each reads as its value.</summary>
public sealed class IdTests
{
    [Theory]
    [InlineData("device_123")]
    [InlineData("a.b:c-d")]
    [InlineData("x")]
    public void DeviceId_AllowedCharacters_Valid(string value)
    {
        Assert.True(DeviceId.IsValid(value));
        Assert.Equal(value, new DeviceId(value).ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/")]
    [InlineData("ÄÖ")]
    public void DeviceId_BadCharactersOrEmpty_Refused(string value)
    {
        Assert.False(DeviceId.IsValid(value));
        Assert.Throws<ArgumentException>(() => new DeviceId(value));
    }

    [Fact]
    public void DeviceId_LongerThanMaxLength_Refused()
    {
        Assert.True(DeviceId.IsValid(new string('a', DeviceId.MaxLength)));
        Assert.False(DeviceId.IsValid(new string('a', DeviceId.MaxLength + 1)));
    }

    [Theory]
    [InlineData("vm-8765", true)]
    [InlineData("host.example.org", true)]
    [InlineData("has:colon", false)]
    [InlineData("", false)]
    public void NodeId_Rule(string value, bool valid) => Assert.Equal(valid, NodeId.IsValid(value));

    [Fact]
    public void NodeId_ForMachine_DropsCharactersANodeIdCannotHaveAndAddsThePort()
    {
        Assert.Equal("myhost-8765", NodeId.ForMachine("my host!", 8765).Value);
        Assert.Equal("node-8765", NodeId.ForMachine("###", 8765).Value);
        Assert.True(NodeId.ForMachine(new string('m', 200), 0).Value.Length <= NodeId.MaxLength);
    }

    [Theory]
    [InlineData("4790", true)]
    [InlineData("000000000000000001", true)]
    [InlineData("1234567890123456789", false)]
    [InlineData("-1", false)]
    [InlineData("12a", false)]
    [InlineData("", false)]
    public void MessageId_WireCursor_DigitsThatFitALong(string value, bool valid) => Assert.Equal(valid, MessageId.IsValid(value));

    [Fact]
    public void MessageId_OrdersByValue()
    {
        Assert.True(new MessageId(2) > new MessageId(1));
        Assert.True(MessageId.None < new MessageId(1));
        Assert.True(MessageId.None.IsNone);
    }

    [Fact]
    public void ConnectionId_HigherIsNewer()
    {
        Assert.True(new ConnectionId(9).IsNewerThan(new ConnectionId(8)));
        Assert.False(new ConnectionId(8).IsNewerThan(new ConnectionId(8)));
        Assert.True(ConnectionId.None.IsNone);
    }
}

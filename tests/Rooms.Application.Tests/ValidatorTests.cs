using Rooms.Application.Common;
using Rooms.Application.Messages.History;
using Rooms.Application.Messages.SendMessage;
using Rooms.Application.Membership.Identify;
using Rooms.Application.Membership.QueryRoom;

namespace Rooms.Application.Tests;

public sealed class IdentifyValidatorTests
{
    private static string? ErrorFor(string? deviceId, string? identity, string? roomId, bool identified = false)
    {
        var session = identified ? TestData.IdentifiedSession("someone") : TestData.NewSession();
        var result = new IdentifyValidator().Validate(new IdentifyCommand(session, deviceId, identity, roomId));
        return result.IsValid ? null : result.Errors[0].ErrorMessage;
    }

    [Theory]
    [InlineData("device_123", "mobile_user", null)]
    [InlineData("a.b:c-d_e", "桌面 user", "ABC123")]
    [InlineData("d", "x", "room-with_dash")]
    public void Validate_WellFormed_Passes(string deviceId, string identity, string? roomId) =>
        Assert.Null(ErrorFor(deviceId, identity, roomId));

    [Theory]
    [InlineData(null, "'device_id' is required")]
    [InlineData("", "'device_id' is required")]
    [InlineData("bad id", "'device_id' may contain only")]
    [InlineData("bad/id", "'device_id' may contain only")]
    public void Validate_BadDeviceId_NamesDeviceId(string? deviceId, string expected) =>
        Assert.StartsWith(expected, ErrorFor(deviceId, "user", null));

    [Fact]
    public void Validate_DeviceIdOver64_NamesDeviceId() =>
        Assert.StartsWith("'device_id' must be at most 64", ErrorFor(new string('a', 65), "user", null));

    [Fact]
    public void Validate_DeviceIdOf64_Passes() => Assert.Null(ErrorFor(new string('a', 64), "user", null));

    [Theory]
    [InlineData(null, "'identity' is required")]
    [InlineData("", "'identity' is required")]
    [InlineData("tab\there", "'identity' must not contain control characters")]
    [InlineData("new\nline", "'identity' must not contain control characters")]
    [InlineData("evil\u202Etxt.exe", "'identity' must not contain control characters")]
    [InlineData("ad\u200Bmin", "'identity' must not contain control characters")]
    [InlineData("line\u2028break", "'identity' must not contain control characters")]
    [InlineData("\u2066isolate", "'identity' must not contain control characters")]
    [InlineData("admin\U000E0041", "'identity' must not contain control characters")] // a tag character: one code point, two UTF-16 units
    [InlineData("\u3164", "'identity' must not contain control characters")] // Hangul filler, renders blank
    [InlineData("a\uFFA0b", "'identity' must not contain control characters")]
    [InlineData("\uFE0Fadmin", "'identity' must not contain control characters")] // a variation selector after nothing
    [InlineData("admin\uFE01", "'identity' must not contain control characters")]
    [InlineData("z\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309", "'identity' must not contain control characters")] // 9 combining marks
    public void Validate_BadIdentity_NamesIdentity(string? identity, string expected) =>
        Assert.StartsWith(expected, ErrorFor("d1", identity, null));

    [Theory]
    [InlineData("👨\u200D👩\u200D👧")]
    [InlineData("❤\uFE0F\u200D🔥")]
    [InlineData("Zoë Ådahl 東京")]
    [InlineData("山田\u3000太郎")] // the ideographic space of Japanese names
    [InlineData("Nguye\u0302\u0303n")] // decomposed Vietnamese: two combining marks
    [InlineData("👍\U0001F3FD")] // a skin-tone modifier
    public void Validate_EmojiJoinedByZeroWidthJoinerAndOtherScripts_Pass(string identity) => Assert.Null(ErrorFor("d1", identity, null));

    [Fact]
    public void Validate_IdentityOver64_NamesIdentity() =>
        Assert.StartsWith("'identity' must be at most 64", ErrorFor("d1", new string('x', 65), null));

    [Theory]
    [InlineData("")]
    [InlineData("room 1")]
    [InlineData("room.1")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    public void Validate_BadRoomId_NamesRoomId(string roomId) =>
        Assert.StartsWith("'room_id' must be 1-32 characters", ErrorFor("d1", "user", roomId));

    [Fact]
    public void Validate_AlreadyIdentified_SaysSo() =>
        Assert.StartsWith("Already identified", ErrorFor("d1", "user", null, identified: true));
}

public sealed class SendMessageValidatorTests
{
    private static string? ErrorFor(string? content, string? target = null, string? timestamp = null, bool identified = true, int maxContent = 16_384)
    {
        var session = identified ? TestData.IdentifiedSession("alice") : TestData.NewSession();
        var result = new SendMessageValidator(new ProtocolSettings(maxContent)).Validate(new SendMessageCommand(session, content, target, timestamp));
        return result.IsValid ? null : result.Errors[0].ErrorMessage;
    }

    [Theory]
    [InlineData("hello", null, null)]
    [InlineData("hello", "device_456", "2024-01-20T12:34:56Z")]
    [InlineData("hello", null, "2024-01-20T12:34:56.789Z")]
    [InlineData("hello", null, "2024-01-20T12:34:56.789123")]
    [InlineData("hello", null, "2024-01-20T12:34:56+08:00")]
    public void Validate_WellFormed_Passes(string content, string? target, string? timestamp) =>
        Assert.Null(ErrorFor(content, target, timestamp));

    [Fact]
    public void Validate_NotIdentified_SaysIdentifyFirst() =>
        Assert.Equal(FieldRules.IdentifyFirst, ErrorFor("hello", identified: false));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Validate_MissingContent_NamesContent(string? content) =>
        Assert.StartsWith("'content' is required", ErrorFor(content));

    [Fact]
    public void Validate_ContentAtLimit_Passes() => Assert.Null(ErrorFor(new string('x', 16_384)));

    [Fact]
    public void Validate_ContentOverLimit_NamesContent() =>
        Assert.Equal("'content' must be at most 16384 characters", ErrorFor(new string('x', 16_385)));

    [Fact]
    public void Validate_ConfiguredLimit_IsTheOneEnforced() =>
        Assert.Equal("'content' must be at most 10 characters", ErrorFor(new string('x', 11), maxContent: 10));

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public void Validate_BadTarget_NamesTarget(string target) =>
        Assert.StartsWith("'target_device_id' must be", ErrorFor("hello", target));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2024-13-45T12:00:00Z")]
    [InlineData("1/20/2024")]
    [InlineData("2024-01-20")]
    public void Validate_BadTimestamp_NamesTimestamp(string timestamp) =>
        Assert.StartsWith("'timestamp' must be an ISO-8601", ErrorFor("hello", timestamp: timestamp));
}

public sealed class QueryRoomValidatorTests
{
    [Fact]
    public void Validate_NotIdentified_SaysIdentifyFirst()
    {
        var result = new QueryRoomValidator().Validate(new QueryRoomQuery(TestData.NewSession()));

        Assert.Equal(FieldRules.IdentifyFirst, Assert.Single(result.Errors).ErrorMessage);
    }

    [Fact]
    public void Validate_Identified_Passes() =>
        Assert.True(new QueryRoomValidator().Validate(new QueryRoomQuery(TestData.IdentifiedSession("a"))).IsValid);
}

public sealed class ClientMessageIdValidatorTests
{
    private static string? ErrorFor(string? id)
    {
        var result = new SendMessageValidator(new ProtocolSettings()).Validate(new SendMessageCommand(TestData.IdentifiedSession("alice"), "hi", null, null, id));
        return result.IsValid ? null : result.Errors[0].ErrorMessage;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("c-17")]
    [InlineData("日本語 ok")]
    public void Validate_AbsentOrWellFormed_Passes(string? id) => Assert.Null(ErrorFor(id));

    [Fact]
    public void Validate_SixtyFourCharacters_Passes() => Assert.Null(ErrorFor(new string('x', 64)));

    [Theory]
    [InlineData("")]
    [InlineData("tab\there")]
    public void Validate_EmptyOrControlCharacters_NamesId(string id) =>
        Assert.StartsWith("'id' must be 1-64 characters", ErrorFor(id));

    [Fact]
    public void Validate_SixtyFiveCharacters_NamesId() => Assert.StartsWith("'id' must be", ErrorFor(new string('x', 65)));
}

public sealed class HistoryValidatorTests
{
    private static string? ErrorFor(string? after, int? limit, bool identified = true)
    {
        var session = identified ? TestData.IdentifiedSession("alice") : TestData.NewSession();
        var result = new HistoryValidator().Validate(new HistoryQuery(session, after, limit));
        return result.IsValid ? null : result.Errors[0].ErrorMessage;
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("0", 1)]
    [InlineData("4790", 500)]
    [InlineData("999999999999999999", 100)]
    public void Validate_WellFormed_Passes(string? after, int? limit) => Assert.Null(ErrorFor(after, limit));

    [Fact]
    public void Validate_NotIdentified_SaysIdentifyFirst() => Assert.Equal(FieldRules.IdentifyFirst, ErrorFor(null, null, identified: false));

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("12a")]
    [InlineData("9999999999999999999")]
    public void Validate_BadCursor_NamesAfterMessageId(string after) =>
        Assert.StartsWith("'after_message_id' must be a message id", ErrorFor(after, null));

    [Theory]
    [InlineData("")]
    [InlineData("12a")]
    public void Validate_BadBackwardCursor_NamesBeforeMessageId(string before) =>
        Assert.StartsWith("'before_message_id' must be a message id", Validate(new HistoryQuery(TestData.IdentifiedSession("alice"), null, null, before)));

    [Theory]
    [InlineData("1", "2", false)]
    [InlineData("1", null, true)]
    [InlineData(null, "2", true)]
    public void Validate_TwoWaysOfPagingAtOnce_SaysGiveOne(string? after, string? before, bool latest) =>
        Assert.StartsWith("Give one of 'after_message_id'", Validate(new HistoryQuery(TestData.IdentifiedSession("alice"), after, null, before, latest)));

    [Theory]
    [InlineData(null, false)]
    [InlineData("4790", false)]
    [InlineData(null, true)]
    public void Validate_OneWayOfPagingBackward_Passes(string? before, bool latest) =>
        Assert.Null(Validate(new HistoryQuery(TestData.IdentifiedSession("alice"), null, 10, before, latest)));

    private static string? Validate(HistoryQuery query)
    {
        var result = new HistoryValidator().Validate(query);
        return result.IsValid ? null : result.Errors[0].ErrorMessage;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(501)]
    public void Validate_LimitOutOfRange_NamesLimit(int limit) =>
        Assert.Equal("'limit' must be a whole number from 1 to 500", ErrorFor(null, limit));
}

namespace Rooms.WebSocketHost.Frames;

/// <summary>
/// The fields a client frame may carry, read in one pass. A field sent with a JSON type other
/// than the one it must have (or null) is reported in <see cref="WrongTypeField"/> instead of being guessed at.
/// </summary>
internal struct ClientFrame
{
    public string? Type;
    public string? DeviceId;
    public string? Identity;
    public string? RoomId;
    public string? Content;
    public string? TargetDeviceId;
    public string? Timestamp;
    public string? Id;
    public string? AfterMessageId;
    public string? BeforeMessageId;
    public bool Latest;
    public int? Limit;
    public string? Token;
    public string? WrongTypeField;
    public string? WrongTypeExpected;

    public readonly bool LooksLikeIdentify => DeviceId is not null || Identity is not null;
}

using Rooms.Domain;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Common;

/// <summary>The protocol's configurable limits and switches that the use cases enforce.</summary>
/// <param name="MaxHistoryPageBytes">A history page's whole frame stays within this many bytes (at most <see cref="ProtocolLimits.MaxServerFrameBytes"/>); a page cut short says <c>has_more</c>.</param>
/// <param name="MaxRoomInfoClients">A <c>room_info</c> lists at most this many members; <c>total_clients</c> stays exact.</param>
/// <param name="RoomIdLength">Characters of a new room's id.</param>
/// <param name="PresenceWindow">Presence changes of a room within this window go out together (<see cref="Membership.PresenceBatcher"/>); zero sends each at once.</param>
public sealed record ProtocolSettings(
    int MaxContentLength = ProtocolLimits.DefaultMaxContentLength,
    bool PresenceEvents = true,
    int MaxHistoryPageBytes = ProtocolSettings.DefaultMaxHistoryPageBytes,
    int MaxRoomInfoClients = ProtocolSettings.DefaultMaxRoomInfoClients,
    int RoomIdLength = RoomId.GeneratedLength,
    TimeSpan PresenceWindow = default)
{
    public static readonly TimeSpan DefaultPresenceWindow = TimeSpan.FromMilliseconds(100);

    public const int DefaultMaxHistoryPageBytes = ProtocolLimits.MaxServerFrameBytes;
    public const int DefaultMaxRoomInfoClients = 1000;

    public const int DefaultHistoryLimit = 100;
    public const int MaxHistoryLimit = 500;
}

using Rooms.Application.Ports;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Application.Sessions;

/// <summary>
/// One WebSocket connection as the use cases see it. Its frames are handled one at a time,
/// in order, so the identify state needs no locking.
/// </summary>
public sealed class ClientSession(long id, string clientIp, IClientChannel channel)
{
    /// <summary>Node-local id of the connection, for logs and the host's registry.</summary>
    public long Id { get; } = id;

    public string ClientIp { get; } = clientIp;

    /// <summary>The connection itself (the host's), for what identify tells its client directly.</summary>
    public IClientChannel Channel { get; } = channel;

    /// <summary>The <c>access_token</c> of the upgrade URL, for device authentication (browsers cannot set headers).</summary>
    public string? AccessToken { get; init; }

    /// <summary>Set by a successful identify; null before.</summary>
    public RoomMember? Member { get; private set; }

    public string? RoomId { get; private set; }

    /// <summary>The <c>connections</c> row this session opened (its member's generation).</summary>
    public long ConnectionRowId => Member?.Generation ?? 0;

    public bool IsIdentified => Member is not null;

    /// <summary>When the device token it identified with expires; the host closes the connection then (4003). Null: never.</summary>
    public DateTime? CredentialsExpireAt { get; set; }

    /// <summary>Who this is, for operators: <c>session 7 from 10.0.0.5, device d1</c>.</summary>
    public string Describe() => Member is { } member ? $"session {Id} from {ClientIp}, device {member.DeviceId}" : $"session {Id} from {ClientIp}";

    public void Identified(RoomMember member, string roomId)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (IsIdentified)
        {
            throw new InvalidOperationException("The session is already identified.");
        }

        Member = member;
        RoomId = roomId;
    }
}

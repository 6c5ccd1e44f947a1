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

    /// <summary>Set by a successful identify (its device, connection and node); null before.</summary>
    public RoomMember? Member { get; private set; }

    /// <summary>Set by a successful identify; null before.</summary>
    public RoomId? Room { get; private set; }

    /// <summary>The identified session's room, for the use cases that run only after identify (their validators check it).</summary>
    /// <exception cref="InvalidOperationException">Not identified yet.</exception>
    public RoomId RoomId => Room ?? throw new InvalidOperationException("The session is not identified.");

    /// <summary>The identified session's member.</summary>
    /// <exception cref="InvalidOperationException">Not identified yet.</exception>
    public RoomMember IdentifiedMember => Member ?? throw new InvalidOperationException("The session is not identified.");

    public bool IsIdentified => Member is not null;

    /// <summary>When the device token it identified with expires; the host closes the connection then (4003). Null: never.</summary>
    public DateTime? CredentialsExpireAt { get; set; }

    /// <summary>Who this is, for operators: <c>session 7 from 10.0.0.5, device d1</c>.</summary>
    public string Describe() => Member is { } member ? $"session {Id} from {ClientIp}, device {member.DeviceId}" : $"session {Id} from {ClientIp}";

    public void Identified(RoomMember member, RoomId roomId)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (IsIdentified)
        {
            throw new InvalidOperationException("The session is already identified.");
        }

        Member = member;
        Room = roomId;
    }
}

using System.Net;
using Rooms.Domain;
using Rooms.Domain.RoomAggregate;
using static Rooms.Infrastructure.Configuration.SettingsBinder;

namespace Rooms.WebSocketHost;

/// <summary>The <c>Rooms</c> configuration section: the protocol's limits and the server's timings.</summary>
public sealed class RoomsSettings
{
    public const string SectionName = "Rooms";

    public const string DefaultUrl = "http://0.0.0.0:8765";

    /// <summary>
    /// The kernel's send buffer per connection (Linux doubles it): a second of a 1 MiB history page at 100 ms of round
    /// trip, and little enough that a client that stops reading fills it within seconds.
    /// </summary>
    public const int SocketSendBufferBytes = 128 * 1024;

    /// <summary>Pending TCP connections the kernel queues for the server (capped by net.core.somaxconn).</summary>
    public const int ListenBacklog = 4096;

    /// <summary>
    /// A larger message closes the connection with 1009. It must carry the longest valid content in any JSON encoding:
    /// <c>\uXXXX</c> escapes take 6 bytes per character (Python's <c>json.dumps</c> escapes all non-ASCII by default),
    /// so the default is 6 x <see cref="MaxContentLength"/> + 4 KiB for the other fields (the seed's 64 KiB was not enough).
    /// </summary>
    public int MaxMessageBytes { get; set; } = (6 * ProtocolLimits.DefaultMaxContentLength) + FrameOverheadBytes;

    public const int FrameOverheadBytes = 4096;

    public int MaxContentLength { get; set; } = ProtocolLimits.DefaultMaxContentLength;

    /// <summary>A connection that has not identified by then is closed with 1008.</summary>
    public TimeSpan IdentifyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Frames waiting for a slow client; a client that lets more pile up is disconnected (1008).</summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>Bytes waiting for a slow client; past them it is disconnected (1008), so one client cannot take the server's memory.</summary>
    public int SendQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Bytes of big replies (history pages, room lists) waiting to be sent on all connections together; past it, such a request gets an error ("server busy") instead.</summary>
    public long QueuedReplyBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The share of <see cref="QueuedReplyBytes"/> one client address (an IPv6 /64) may take.</summary>
    public long QueuedReplyBytesPerAddress { get; set; } = 32L * 1024 * 1024;

    /// <summary>A history page's frame stays within this many bytes (with <c>has_more</c>); at most 1 MiB, what every client library reads.</summary>
    public int MaxHistoryPageBytes { get; set; } = Application.Common.ProtocolSettings.DefaultMaxHistoryPageBytes;

    /// <summary>Characters of a new room's id (A-Z0-9; the seed's 6). Without device tokens a room id is the only secret: longer is harder to guess.</summary>
    public int RoomIdLength { get; set; } = RoomId.GeneratedLength;

    /// <summary>Members listed in one <c>room_info</c>; <c>total_clients</c> stays exact.</summary>
    public int MaxRoomInfoClients { get; set; } = Application.Common.ProtocolSettings.DefaultMaxRoomInfoClients;

    /// <summary>How long a closing connection may take to answer the close handshake before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the server pings each client (WebSocket ping frames).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A client that does not answer a ping within this time, or whose socket takes no data for this long (it stopped reading, or vanished), is dropped.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A message whose first bytes arrived must be complete within this time, or the client is dropped (a stalled or dribbling sender).</summary>
    public TimeSpan MessageReceiveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Frames a connection may send per second, sustained (a token bucket); more get an error frame and are not handled.</summary>
    public int MessagesPerSecond { get; set; } = 100;

    /// <summary>Frames a connection may send at once above the sustained rate.</summary>
    public int MessageBurst { get; set; } = 200;

    /// <summary>A connection with more refused frames than this within <see cref="RejectionWindow"/> is closed (1008).</summary>
    public int MaxRejectedMessages { get; set; } = 100;

    public static readonly TimeSpan RejectionWindow = TimeSpan.FromSeconds(10);

    /// <summary>Failed identifies one connection may make (bad fields, unknown room, refused token); one more closes it (1008).</summary>
    public int MaxIdentifyAttempts { get; set; } = 5;

    /// <summary>Connections that have not identified yet, in total and per client IP; past them, upgrades get 503. Well below
    /// <see cref="MaxConnections"/>, so connections that never identify cannot hold every slot (the smaller of the two applies).</summary>
    public int MaxUnidentifiedConnections { get; set; } = 10_000;

    public int MaxUnidentifiedConnectionsPerIp { get; set; } = 200;

    /// <summary>WebSocket upgrades per client IP per minute (a token bucket: this many at once, refilled over a minute); past it, 503.</summary>
    public int UpgradesPerMinutePerIp { get; set; } = 1_200;

    /// <summary>Identifies per device per minute (a reconnect loop churns connection rows and presence frames); past it, an error and 1008.</summary>
    public int IdentifiesPerMinutePerDevice { get; set; } = 30;

    /// <summary>Identifies answered <c>room_not_found</c> per client IP and per device per minute; past it, 1008 and the IP's upgrades get 503 for <see cref="AbuseBlock"/>.</summary>
    public int FailedJoinsPerMinute { get; set; } = 20;

    /// <summary>New rooms per client IP per minute; past it, an error. (Per device there is nothing to limit: a known
    /// device that sends no room_id goes back to its last room, so a device creates one room at most.)</summary>
    public int RoomsCreatedPerMinutePerIp { get; set; } = 120;

    /// <summary>How long an address that guessed too many room ids is refused (503 with Retry-After).</summary>
    public TimeSpan AbuseBlock { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Bytes of frames a connection may send per second, sustained (what it can make the server store); bursts of <see cref="InboundBurstBytes"/>.</summary>
    public int InboundBytesPerSecond { get; set; } = 64 * 1024;

    public int InboundBurstBytes { get; set; } = 1024 * 1024;

    /// <summary>Bytes of frames per second from one client address (an IPv6 /64), all its connections together: what one address can make the server store; bursts of <see cref="InboundBurstBytesPerAddress"/>.</summary>
    public int InboundBytesPerSecondPerAddress { get; set; } = 1024 * 1024;

    public int InboundBurstBytesPerAddress { get; set; } = 16 * 1024 * 1024;

    /// <summary>Open connections this node accepts in total; past it, upgrades get 503.</summary>
    public int MaxConnections { get; set; } = 15_000;

    /// <summary>Open connections per client IP (after X-Forwarded-For from a trusted proxy); past it, upgrades get 503.</summary>
    public int MaxConnectionsPerIp { get; set; } = 1_000;

    /// <summary>Browser origins allowed to connect (e.g. <c>https://app.example.com</c>); empty allows all. Clients that send no Origin (non-browsers) are not affected.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Reverse proxies whose <c>X-Forwarded-For</c> names the client (addresses or CIDR networks, e.g. <c>10.0.0.5</c>,
    /// <c>10.0.0.0/24</c>). From any other peer the header is ignored, so a client cannot pick its own address.
    /// Unset: loopback (<see cref="LoopbackProxies"/>), for a proxy on the same host. Setting it replaces that list.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    public static readonly string[] LoopbackProxies = ["127.0.0.0/8", "::1"];

    /// <summary>Whether the members of a room hear <c>presence</c> events (joined / left).</summary>
    public bool PresenceEvents { get; set; } = true;

    /// <summary>A room's presence changes within this window go out as one frame per member (docs/protocol.md §5); 00:00:00 sends each change at once, one event per frame.</summary>
    public TimeSpan PresenceWindow { get; set; } = Application.Common.ProtocolSettings.DefaultPresenceWindow;

    /// <summary>How often the status line (connections, rooms, devices per room) is logged.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromMinutes(1);

    public void Validate()
    {
        Require(MaxMessageBytes <= 16 * 1024 * 1024, "Rooms:MaxMessageBytes must be at most 16777216");
        Require(MaxMessageBytes >= (6 * MaxContentLength) + FrameOverheadBytes,
            $"Rooms:MaxMessageBytes must be at least 6 x Rooms:MaxContentLength + {FrameOverheadBytes} = {(6 * MaxContentLength) + FrameOverheadBytes}, so that the longest valid content fits even \\u-escaped (or lower Rooms:MaxContentLength)");
        Require(MaxContentLength is >= 1 and <= ProtocolLimits.MaxContentLengthCeiling, $"Rooms:MaxContentLength must be between 1 and {ProtocolLimits.MaxContentLengthCeiling}");
        Require(IdentifyTimeout > TimeSpan.Zero, "Rooms:IdentifyTimeout must be positive");
        Require(SendQueueCapacity >= 1, "Rooms:SendQueueCapacity must be at least 1");
        Require(SendQueueBytes >= 64 * 1024, "Rooms:SendQueueBytes must be at least 65536");
        Require(MaxHistoryPageBytes >= 1024 && MaxHistoryPageBytes <= Math.Min(SendQueueBytes, ProtocolLimits.MaxServerFrameBytes),
            $"Rooms:MaxHistoryPageBytes must be between 1024 and {ProtocolLimits.MaxServerFrameBytes} (what every client library reads), and at most Rooms:SendQueueBytes");
        Require(QueuedReplyBytesPerAddress >= ProtocolLimits.MaxServerFrameBytes && QueuedReplyBytes >= QueuedReplyBytesPerAddress,
            $"Rooms:QueuedReplyBytesPerAddress must be at least {ProtocolLimits.MaxServerFrameBytes} (one page), and Rooms:QueuedReplyBytes at least that");
        Require(MaxRoomInfoClients >= 1, "Rooms:MaxRoomInfoClients must be at least 1");
        Require(RoomIdLength is >= RoomId.MinGeneratedLength and <= RoomId.MaxLength,
            $"Rooms:RoomIdLength must be between {RoomId.MinGeneratedLength} and {RoomId.MaxLength}");
        Require(CloseTimeout > TimeSpan.Zero, "Rooms:CloseTimeout must be positive");
        Require(KeepAliveInterval > TimeSpan.Zero, "Rooms:KeepAliveInterval must be positive");
        Require(KeepAliveTimeout > TimeSpan.Zero, "Rooms:KeepAliveTimeout must be positive");
        Require(MessageReceiveTimeout > TimeSpan.Zero, "Rooms:MessageReceiveTimeout must be positive");
        Require(MessagesPerSecond >= 1, "Rooms:MessagesPerSecond must be at least 1");
        Require(MessageBurst >= 1, "Rooms:MessageBurst must be at least 1");
        Require(MaxRejectedMessages >= 1, "Rooms:MaxRejectedMessages must be at least 1");
        Require(MaxConnections >= 1, "Rooms:MaxConnections must be at least 1");
        Require(MaxConnectionsPerIp >= 1, "Rooms:MaxConnectionsPerIp must be at least 1");
        Require(MaxIdentifyAttempts >= 1, "Rooms:MaxIdentifyAttempts must be at least 1");
        Require(MaxUnidentifiedConnections >= 1, "Rooms:MaxUnidentifiedConnections must be at least 1");
        Require(MaxUnidentifiedConnectionsPerIp >= 1, "Rooms:MaxUnidentifiedConnectionsPerIp must be at least 1");
        foreach (var (name, value) in new[]
        {
            ("UpgradesPerMinutePerIp", UpgradesPerMinutePerIp), ("IdentifiesPerMinutePerDevice", IdentifiesPerMinutePerDevice),
            ("FailedJoinsPerMinute", FailedJoinsPerMinute), ("RoomsCreatedPerMinutePerIp", RoomsCreatedPerMinutePerIp),
            ("InboundBytesPerSecond", InboundBytesPerSecond),
        })
        {
            Require(value >= 1, $"Rooms:{name} must be at least 1");
        }

        Require(InboundBurstBytes >= MaxMessageBytes, "Rooms:InboundBurstBytes must be at least Rooms:MaxMessageBytes (one largest frame must fit)");
        Require(InboundBytesPerSecondPerAddress >= 10, "Rooms:InboundBytesPerSecondPerAddress must be at least 10");
        Require(InboundBurstBytesPerAddress >= MaxMessageBytes, "Rooms:InboundBurstBytesPerAddress must be at least Rooms:MaxMessageBytes (one largest frame must fit)");
        Require(AbuseBlock > TimeSpan.Zero, "Rooms:AbuseBlock must be positive");
        Require(StatusInterval > TimeSpan.Zero, "Rooms:StatusInterval must be positive");
        Require(PresenceWindow >= TimeSpan.Zero && PresenceWindow <= TimeSpan.FromSeconds(10), "Rooms:PresenceWindow must be between 00:00:00 and 00:00:10");
        foreach (var proxy in TrustedProxies)
        {
            Require(IPNetwork.TryParse(proxy, out _) || IPAddress.TryParse(proxy, out _),
                $"Rooms:TrustedProxies must list IP addresses or CIDR networks such as 10.0.0.5 or 10.0.0.0/24 (got '{proxy}')");
        }
    }

    /// <summary><see cref="TrustedProxies"/> as networks (a single address is a network of one).</summary>
    public IReadOnlyList<IPNetwork> TrustedProxyNetworks() =>
        [.. (TrustedProxies.Length == 0 ? LoopbackProxies : TrustedProxies).Select(p => IPNetwork.TryParse(p, out var network) ? network : new IPNetwork(IPAddress.Parse(p), IPAddress.Parse(p).AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))];
}

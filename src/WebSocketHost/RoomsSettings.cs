using Rooms.Domain;

namespace Rooms.WebSocketHost;

/// <summary>The <c>Rooms</c> configuration section: the protocol's limits and the server's timings.</summary>
public sealed class RoomsSettings
{
    public const string SectionName = "Rooms";

    public const string DefaultUrl = "http://0.0.0.0:8765";

    /// <summary>A larger message closes the connection with 1009.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    public int MaxContentLength { get; set; } = ProtocolLimits.DefaultMaxContentLength;

    /// <summary>A connection that has not identified by then is closed with 1008.</summary>
    public TimeSpan IdentifyTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Frames waiting for a slow client; a client that lets more pile up is disconnected (1008).</summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>How long a closing connection may take to answer the close handshake before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the server pings each client (WebSocket ping frames).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A client that does not answer a ping within this time (it stopped reading, or vanished) is dropped.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A message whose first bytes arrived must be complete within this time, or the client is dropped (a stalled or dribbling sender).</summary>
    public TimeSpan MessageReceiveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether the members of a room hear <c>presence</c> events (joined / left).</summary>
    public bool PresenceEvents { get; set; } = true;

    /// <summary>How often the status line (connections, rooms, devices per room) is logged.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromMinutes(1);

    public void Validate()
    {
        Require(MaxMessageBytes is >= 1024 and <= 16 * 1024 * 1024, "Rooms:MaxMessageBytes must be between 1024 and 16777216");
        Require(MaxContentLength is >= 1 and <= ProtocolLimits.MaxContentLengthCeiling, $"Rooms:MaxContentLength must be between 1 and {ProtocolLimits.MaxContentLengthCeiling}");
        Require(IdentifyTimeout > TimeSpan.Zero, "Rooms:IdentifyTimeout must be positive");
        Require(SendQueueCapacity >= 1, "Rooms:SendQueueCapacity must be at least 1");
        Require(CloseTimeout > TimeSpan.Zero, "Rooms:CloseTimeout must be positive");
        Require(KeepAliveInterval > TimeSpan.Zero, "Rooms:KeepAliveInterval must be positive");
        Require(KeepAliveTimeout > TimeSpan.Zero, "Rooms:KeepAliveTimeout must be positive");
        Require(MessageReceiveTimeout > TimeSpan.Zero, "Rooms:MessageReceiveTimeout must be positive");
        Require(StatusInterval > TimeSpan.Zero, "Rooms:StatusInterval must be positive");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

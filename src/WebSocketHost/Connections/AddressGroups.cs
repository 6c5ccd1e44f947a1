using System.Net;
using System.Net.Sockets;

namespace Rooms.WebSocketHost.Connections;

/// <summary>
/// Who a per-address limit counts. An IPv6 host usually owns a whole /64 (it can pick any of 2^64 addresses), so an
/// IPv6 client is counted by its /64; an IPv4 client by its address. Every per-address limit also has a coarser share
/// (<see cref="WideShare"/> times the limit) for the network around it, an IPv6 /48 (one site) or an IPv4 /24, so a
/// client that owns many /64s or many neighbouring addresses still meets a bound.
/// </summary>
internal static class AddressGroups
{
    /// <summary>The coarser network may hold this many times one address's limit.</summary>
    public const int WideShare = 16;

    /// <summary>The keys an address is counted under: its own and its network's (prefixed, so it never equals an address's).</summary>
    public readonly record struct Keys(string Narrow, string Wide);

    /// <summary>Both keys of <paramref name="clientIp"/>, worked out once per connection (parsing the address is not free).</summary>
    public static Keys Of(string clientIp) => new(Narrow(clientIp), "net:" + Wide(clientIp));

    /// <summary>The key one address's limit counts under (the IPv6 /64, or the IPv4 address).</summary>
    public static string Narrow(string clientIp) => Key(clientIp, v4Bits: 32, v6Bits: 64);

    /// <summary>The key of the network around it (the IPv6 /48, or the IPv4 /24).</summary>
    public static string Wide(string clientIp) => Key(clientIp, v4Bits: 24, v6Bits: 48);

    private static string Key(string clientIp, int v4Bits, int v6Bits)
    {
        if (!IPAddress.TryParse(clientIp, out var address))
        {
            return clientIp;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? v4Bits : v6Bits;
        if (bits == 32)
        {
            return address.ToString();
        }

        return new IPNetwork(Mask(address, bits), bits).ToString();
    }

    private static IPAddress Mask(IPAddress address, int bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}

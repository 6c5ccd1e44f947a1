using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The probe's ways for one client to hurt the others (../shared/reviews/probe-2026-11-30.md), each against a server
/// of its own with the limit shrunk. Clients that must be told apart by address connect from their own loopback
/// address (127.0.0.x), so one test's block cannot touch another's.
/// </summary>
public sealed class AbuseTests : IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task FailedIdentifiesEverySecond_DoNotRenewTheDeadline_ClosedWhenItRunsOutFromTheUpgrade()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:IdentifyTimeout=00:00:02", "--Rooms:MaxIdentifyAttempts=100");
        await using var client = await TestClient.ConnectAsync(server);
        await client.ReceiveAsync();
        var upgraded = Stopwatch.StartNew();

        WebSocketCloseStatus? closedWith = null;
        while (upgraded.Elapsed < TimeSpan.FromSeconds(6) && closedWith is null)
        {
            await Task.Delay(700);
            try
            {
                await client.SendAsync("""{"device_id":"","identity":"x"}""");
                var frame = await client.ReceiveAsync(TimeSpan.FromSeconds(2));
                Assert.Equal("error", frame.GetProperty("type").GetString());
            }
            catch (Exception ex) when (ex is InvalidOperationException or WebSocketException)
            {
                closedWith = client.CloseStatus;
            }
        }

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closedWith);
        Assert.True(upgraded.Elapsed < TimeSpan.FromSeconds(4.5), $"closed after {upgraded.Elapsed.TotalSeconds:0.0} s; the deadline is 2 s from the upgrade");
    }

    [Fact]
    public async Task FailedIdentifyAttempts_PastTheCap_Closed1008()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MaxIdentifyAttempts=3");
        await using var client = await TestClient.ConnectAsync(server);
        await client.ReceiveAsync();

        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("""{"device_id":"","identity":"x"}""");
        }

        await client.ExpectErrorAsync("'device_id' is required");
        await client.ExpectErrorAsync("'device_id' is required");
        var (status, reason) = await client.ExpectCloseAsync();
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "Too many failed identify attempts"), (status, reason));
    }

    [Fact]
    public async Task UnidentifiedConnections_CappedPerAddress_AnIdentifiedOneFreesItsPlace()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MaxUnidentifiedConnectionsPerIp=2");
        var from = IPAddress.Parse("127.0.0.31");
        var first = await ConnectFromAsync(server, from);
        var second = await ConnectFromAsync(server, from);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectFromAsync(server.WebSocketUri(), from, null)).Status);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await TestClient.TryConnectAsync(server.WebSocketUri())));

        await first.ReceiveAsync();
        await first.IdentifyAsync("now-identified");

        // The room frame can reach the client a moment before the server counts the connection identified.
        TestClient? third = null;
        await Eventually.TrueAsync(async () =>
        {
            var (status, client) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), from, null);
            third = client;
            return status == HttpStatusCode.SwitchingProtocols;
        }, TimeSpan.FromSeconds(5), pollMilliseconds: 100);
        foreach (var client in new[] { first, second, third! })
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task GuessingRoomIds_PastTheLimit_Closed1008AndTheAddressRefusedWithRetryAfter()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:FailedJoinsPerMinute=3", "--Rooms:AbuseBlock=00:00:30");
        var guesser = IPAddress.Parse("127.0.0.32");
        var client = await ConnectFromAsync(server, guesser);
        await client.ReceiveAsync();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("room_not_found", (await client.IdentifyAsync("guesser", $"GUES{i:D2}")).GetProperty("status").GetString());
        }

        await client.SendObjectAsync(new { device_id = "guesser", identity = "x", room_id = "GUES99" });
        Assert.Equal("room_not_found", (await client.ReceiveAsync()).GetProperty("status").GetString());
        await client.ExpectErrorAsync("Too many unknown room ids");
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await client.ExpectCloseAsync()).Status);

        var (status, _) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), guesser, null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, await TestClient.TryConnectAsync(server.WebSocketUri()));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task ReconnectChurn_UpgradesPerAddressAndIdentifiesPerDeviceLimited()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:UpgradesPerMinutePerIp=4", "--Rooms:IdentifiesPerMinutePerDevice=2");
        var churner = IPAddress.Parse("127.0.0.33");
        for (var i = 0; i < 2; i++)
        {
            await using var client = await ConnectFromAsync(server, churner);
            await client.ReceiveAsync();
            Assert.Equal("room", (await client.IdentifyAsync("flapper")).GetProperty("type").GetString());
        }

        await using (var third = await ConnectFromAsync(server, churner))
        {
            await third.ReceiveAsync();
            await third.SendObjectAsync(new { device_id = "flapper", identity = "x" });
            await third.ExpectErrorAsync("Too many identifies of this device");
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await third.ExpectCloseAsync()).Status);
        }

        await using var fourth = await ConnectFromAsync(server, churner);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectFromAsync(server.WebSocketUri(), churner, null)).Status);
        await using var db = _database.OpenContext();
        Assert.Equal(2, await db.Connections.CountAsync(c => c.DeviceId == "flapper"));
    }

    [Fact]
    public async Task StoredBytesAndNewRooms_LimitedPerConnectionAndPerDevice()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:InboundBytesPerSecond=1000", "--Rooms:InboundBurstBytes=102400", "--Rooms:RoomsCreatedPerMinutePerIp=2");
        var (writer, _) = await TestClient.IdentifiedAsync(server, "writer");
        var content = new string('x', 16_000);
        for (var i = 0; i < 8; i++)
        {
            await writer.SendObjectAsync(new { type = "message", content, id = $"big-{i}" });
        }

        var answers = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var frame = await writer.ReceiveAsync();
            answers.Add(frame.GetProperty("type").GetString() == "ack" ? "ack" : frame.GetProperty("message").GetString()!);
        }

        // 100 KB of burst holds six 16 KB frames; the rest of the burst is refused, not stored.
        Assert.Equal(6, answers.Count(a => a == "ack"));
        Assert.All(answers.Where(a => a != "ack"), a => Assert.StartsWith("Rate limit exceeded", a));
        await using (var db = _database.OpenContext())
        {
            Assert.Equal(6, await db.Messages.CountAsync(m => m.FromDeviceId == "writer"));
        }

        // Fresh devices from one address, each creating a room (the probe made 417 a second).
        var creators = IPAddress.Parse("127.0.0.34");
        for (var i = 0; i < 2; i++)
        {
            await using var creator = await ConnectFromAsync(server, creators);
            await creator.ReceiveAsync();
            Assert.Equal("created_new", (await creator.IdentifyAsync($"creator-{i}")).GetProperty("status").GetString());
        }

        await using var third = await ConnectFromAsync(server, creators);
        await third.ReceiveAsync();
        await third.SendObjectAsync(new { device_id = "creator-2", identity = "x" });
        await third.ExpectErrorAsync("Too many new rooms");
        await writer.DisposeAsync();
    }

    /// <summary>The probe's 15 addresses held the whole pool with connections that never identify; a new client now evicts the oldest.</summary>
    [Fact]
    public async Task SilentConnectionsFillingThePool_TheOldestMakeRoomForANewClient()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:MaxUnidentifiedConnections=6", "--Rooms:IdentifyTimeout=00:01:00");
        var silent = new List<TestClient>();
        for (var i = 0; i < 6; i++)
        {
            silent.Add(await ConnectFromAsync(server, IPAddress.Parse($"127.0.0.{41 + i}")));
        }

        // Younger than a second: they may be clients about to identify, so nobody is evicted yet.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await TestClient.TryConnectFromAsync(server.WebSocketUri(), IPAddress.Parse("127.0.0.48"), null)).Status);
        await Task.Delay(TimeSpan.FromMilliseconds(1200)); // Admission.EvictableAfter (1 s) and a little

        var (client, room) = await TestClient.IdentifiedAsync(server, "latecomer");
        Assert.Equal("created_new", room.GetProperty("status").GetString());
        await silent[0].ReceiveAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await silent[0].ExpectCloseAsync()).Status);
        foreach (var other in silent.Append(client))
        {
            await other.DisposeAsync();
        }
    }

    /// <summary>A connection past its identify deadline used to hold its place for the close handshake too (5 s more).</summary>
    [Fact]
    public async Task IdentifyTimeout_FreesThePlaceAmongTheUnidentifiedAtOnce_NotAfterTheCloseHandshake()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:IdentifyTimeout=00:00:01", "--Rooms:MaxUnidentifiedConnectionsPerIp=1", "--Rooms:CloseTimeout=00:00:10");
        var from = IPAddress.Parse("127.0.0.51");
        var (status, silent) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), from, null);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);

        // The silent client never reads, so it never answers the server's close.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var (again, next) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), from, null);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, again);
        await next!.DisposeAsync();
        await silent!.DisposeAsync();
    }

    /// <summary>The probe guessed 6 000 room ids in 2.1 s from 300 addresses of one /64: an IPv6 client is counted by its /64.</summary>
    [Fact]
    public async Task GuessingRoomIds_FromManyAddressesOfOneIpv6Slash64_CountedAsOneAddress()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:FailedJoinsPerMinute=3", "--Rooms:AbuseBlock=00:00:30");
        var answered = 0;
        var refused = 0;
        for (var i = 1; i <= 10; i++)
        {
            var (status, client) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), IPAddress.Loopback, forwardedFor: $"2001:db8:0:7::{i:x}");
            if (status != HttpStatusCode.SwitchingProtocols)
            {
                refused++;
                continue;
            }

            await client!.ReceiveAsync();
            var room = await client.IdentifyAsync($"guesser-{i}", $"GUES{i:D2}");
            answered += room.GetProperty("status").GetString() == "room_not_found" ? 1 : 0;
            await client.DisposeAsync();
        }

        Assert.True(answered <= 4, $"{answered} guesses answered from one /64");
        Assert.True(refused >= 6, $"only {refused} upgrades refused");

        // Another /64 of the same /48 is another address (until the /48's share of 16 x 3 runs out).
        var (other, _) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), IPAddress.Loopback, forwardedFor: "2001:db8:0:8::1");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, other);
    }

    /// <summary>150 connections from one address stored 212 MB in 10 s: the byte budget was per connection only.</summary>
    [Fact]
    public async Task StoredBytes_LimitedPerAddress_AcrossItsConnections()
    {
        await using var server = await RoomsServer.StartAsync(_database,
            "--Rooms:InboundBytesPerSecondPerAddress=1000", "--Rooms:InboundBurstBytesPerAddress=102400", "--Rooms:RoomsCreatedPerMinutePerIp=100");
        var from = IPAddress.Parse("127.0.0.61");
        var writers = new List<TestClient>();
        for (var w = 0; w < 3; w++)
        {
            var writer = await ConnectFromAsync(server, from);
            await writer.ReceiveAsync();
            await writer.IdentifyAsync($"bytes-{w}");
            writers.Add(writer);
        }

        var content = new string('x', 16_000);
        var acked = 0;
        foreach (var writer in writers)
        {
            for (var i = 0; i < 4; i++)
            {
                await writer.SendObjectAsync(new { type = "message", content, id = $"big-{i}" });
                var frame = await writer.ReceiveAsync();
                if (frame.GetProperty("type").GetString() == "ack")
                {
                    acked++;
                }
                else
                {
                    Assert.StartsWith("Rate limit exceeded", frame.GetProperty("message").GetString());
                }
            }
        }

        // 100 KB of the address's burst holds six 16 KB frames, whichever of its connections sends them.
        Assert.InRange(acked, 5, 7);
        await using (var db = _database.OpenContext())
        {
            Assert.Equal(acked, await db.Messages.CountAsync(m => m.FromDeviceId.StartsWith("bytes-")));
        }

        foreach (var writer in writers)
        {
            await writer.DisposeAsync();
        }
    }

    [Fact]
    public async Task RoomIdLength_Configured_NewRoomsGetIdsThatLong()
    {
        await using var server = await RoomsServer.StartAsync(_database, "--Rooms:RoomIdLength=12");

        var (client, room) = await TestClient.IdentifiedAsync(server, "long-id");

        Assert.Matches("^[A-Z0-9]{12}$", room.GetProperty("room_id").GetString());
        await client.DisposeAsync();
    }

    private static async Task<TestClient> ConnectFromAsync(RoomsServer server, IPAddress from)
    {
        var (status, client) = await TestClient.TryConnectFromAsync(server.WebSocketUri(), from, null);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
        return client!;
    }
}

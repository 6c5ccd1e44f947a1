using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary><c>wss://</c> with a certificate given to Kestrel in configuration, as the README shows.</summary>
public sealed class TlsTests : IDisposable
{
    private const string Password = "test-only";
    private readonly string _folder = Directory.CreateTempSubdirectory("rooms-tls-").FullName;
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);

    public void Dispose()
    {
        _database.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task CertificateInConfiguration_ClientsConnectOverWssAndTalk()
    {
        using var certificate = SelfSigned();
        var path = Path.Combine(_folder, "rooms.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, Password));
        await using var server = await RoomsServer.StartAsync(_database,
            "--Kestrel:Endpoints:Https:Url=https://127.0.0.1:0",
            $"--Kestrel:Endpoints:Https:Certificate:Path={path}",
            $"--Kestrel:Endpoints:Https:Certificate:Password={Password}");
        Assert.Equal("https", server.BaseUri.Scheme);
        var uri = new Uri($"wss://{server.BaseUri.Authority}/ws");

        using var alice = await ConnectAsync(uri, certificate.Thumbprint);
        using var bob = await ConnectAsync(uri, certificate.Thumbprint);
        await SendAsync(alice, """{"device_id":"tls-a","identity":"a"}""");
        var room = System.Text.Json.JsonDocument.Parse(await ReceiveAsync(alice)).RootElement.GetProperty("room_id").GetString();
        await SendAsync(bob, $$"""{"device_id":"tls-b","identity":"b","room_id":"{{room}}"}""");
        Assert.Contains("joined_existing", await ReceiveAsync(bob));
        await SendAsync(bob, """{"type":"message","content":"over TLS"}""");

        string frame;
        do
        {
            frame = await ReceiveAsync(alice);
        }
        while (!frame.Contains("\"type\":\"message\"", StringComparison.Ordinal));

        Assert.Contains("over TLS", frame);
    }

    /// <summary>Trusts exactly the test's certificate, nothing else.</summary>
    private static async Task<ClientWebSocket> ConnectAsync(Uri uri, string thumbprint)
    {
        var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint;
        await socket.ConnectAsync(uri, CancellationToken.None);
        Assert.Contains("connection", await ReceiveAsync(socket));
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}

using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>Transport-level abuse and faults of docs/protocol.md "Limits": what a hostile or broken client gets.</summary>
public sealed class HardeningTests : IAsyncLifetime
{
    private static readonly byte[] InvalidUtf8 = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'];

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(_database);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InvalidUtf8_ClosesWith1007_BeforeAndAfterIdentify(bool identified)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await using var client = await TestClient.ConnectAsync(_server);
            await client.ReceiveAsync();
            if (identified)
            {
                await client.IdentifyAsync($"utf8-{attempt}");
            }

            await client.SendAsync(InvalidUtf8, WebSocketMessageType.Text);

            var (status, _) = await client.ExpectCloseAsync();
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        }

        await using var db = _database.OpenContext();
        Assert.Equal(0, await db.Messages.CountAsync());
    }
}

using Microsoft.Extensions.DependencyInjection;
using Rooms.Application.Ports;
using Rooms.Domain.Devices;
using Rooms.Infrastructure.Persistence;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>A bug in one part of the server (here: the device authenticator throws) costs the frame, not the connection.</summary>
public sealed class FrameGuardTests : IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Sqlite);
    private RoomsServer _server = null!;

    public async Task InitializeAsync() => _server = await RoomsServer.StartAsync(
        _database, services => services.AddSingleton<IDeviceAuthenticator, ThrowsForOneDevice>(), RoomsServer.Unthrottled);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _database.Dispose();
    }

    [Fact]
    public async Task UnexpectedException_ErrorFrameAndTheConnectionGoesOn()
    {
        await using var client = await TestClient.ConnectAsync(_server.WebSocketUri());
        await client.ReceiveAsync();

        await client.SendObjectAsync(new { device_id = "boom", identity = "b" });
        Assert.Equal("Internal error: the server could not handle this frame", await client.ExpectErrorAsync("Internal error"));

        var room = await client.IdentifyAsync("fine");
        Assert.Equal("created_new", room.GetProperty("status").GetString());
    }

    private sealed class ThrowsForOneDevice : IDeviceAuthenticator
    {
        public Task<DeviceAuthorization> AuthorizeAsync(string? token, DeviceId deviceId, CancellationToken cancellationToken) =>
            deviceId.Value == "boom" ? throw new InvalidOperationException("a bug") : Task.FromResult(DeviceAuthorization.Anyone);
    }
}

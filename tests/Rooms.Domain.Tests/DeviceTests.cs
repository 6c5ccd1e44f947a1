using Rooms.Domain.Devices;
using Rooms.Domain.RoomAggregate;

namespace Rooms.Domain.Tests;

public sealed class DeviceTests
{
    [Fact]
    public void FirstSeen_NewDevice_HasNoLastRoom()
    {
        var device = Device.FirstSeen(new DeviceId("d1"), "phone", new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Null(device.LastRoomId);
        Assert.Equal("phone", device.Identity);
    }

    [Fact]
    public void ConnectedTo_Room_RemembersRoomIdentityAndTime()
    {
        var device = Device.FirstSeen(new DeviceId("d1"), "phone", DateTime.UnixEpoch);
        var at = new DateTime(2024, 1, 20, 12, 0, 0, DateTimeKind.Utc);

        device.ConnectedTo(new RoomId("ABC123"), "tablet", at);

        Assert.Equal(new RoomId("ABC123"), device.LastRoomId);
        Assert.Equal("tablet", device.Identity);
        Assert.Equal(at, device.LastConnectedAt);
    }

    [Fact]
    public void ConnectedTo_EmptyIdentity_Throws()
    {
        var device = Device.FirstSeen(new DeviceId("d1"), "phone", DateTime.UnixEpoch);

        Assert.Throws<ArgumentException>(() => device.ConnectedTo(new RoomId("ABC123"), "", DateTime.UnixEpoch));
    }
}

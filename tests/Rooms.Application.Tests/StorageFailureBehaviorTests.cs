using Rooms.Application.Common;
using Rooms.Application.Membership.QueryRoom;

namespace Rooms.Application.Tests;

/// <summary>The one storage-failure policy: storage outages become "try again", anything else stays an exception (a bug).</summary>
public sealed class StorageFailureBehaviorTests
{
    private readonly QueryRoomQuery _query = new(TestData.IdentifiedSession("alice"));

    [Theory]
    [InlineData("db")]
    [InlineData("timeout")]
    [InlineData("wrapped")]
    public async Task StorageFailure_TheRequestsTryAgainError(string kind)
    {
        var failure = kind switch
        {
            "db" => TestData.DatabaseDown(),
            "timeout" => new TimeoutException("commit timed out"),
            _ => new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", TestData.DatabaseDown()),
        };

        var result = await Behavior().Handle(_query, CancellationToken.None, () => throw failure);

        Assert.Equal("Room query failed: storage unavailable, try again", result.Error);
    }

    [Fact]
    public async Task AnyOtherException_NotTakenForAnOutage()
    {
        await Assert.ThrowsAsync<NullReferenceException>(() => Behavior().Handle(_query, CancellationToken.None, () => throw new NullReferenceException()));
    }

    private static StorageFailureBehavior<QueryRoomQuery, Contracts.RoomInfoDto> Behavior() => new(TestData.Outage(), TestData.Metrics());
}

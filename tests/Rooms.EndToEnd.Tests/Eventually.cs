namespace Rooms.EndToEnd.Tests;

/// <summary>Polls a condition until it holds, failing the test when it has not within the bound.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan bound, int pollMilliseconds = 50)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + bound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {bound.TotalSeconds} s");
            await Task.Delay(pollMilliseconds);
        }
    }
}

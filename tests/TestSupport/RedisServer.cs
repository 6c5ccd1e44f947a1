using System.Diagnostics;
using System.Net.Sockets;

namespace Rooms.TestSupport;

/// <summary>
/// A real Redis for the tests: Debian's redis-server on a free loopback port, without persistence
/// (<c>--save '' --appendonly no</c>), in a temp folder of its own. <see cref="Shared"/> is one per
/// test process; tests that stop and restart Redis start a private one. Stopped by the PID it started.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private static readonly Lazy<RedisServer> SharedServer = new(() =>
    {
        var server = Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return server;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _folder;
    private Process? _process;

    private RedisServer(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    public static RedisServer Shared => SharedServer.Value;

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static RedisServer Start()
    {
        var folder = Directory.CreateTempSubdirectory("rooms-redis-").FullName;
        var server = new RedisServer(folder, MariaDbServer.FreePort());
        server.Run();
        return server;
    }

    /// <summary>Kills the server (SIGKILL): everything it held is gone, as after a crash.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts it again on the same port, empty.</summary>
    public void Restart()
    {
        Kill();
        Run();
    }

    public void Dispose()
    {
        Kill();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void Run()
    {
        var redisServer = new[] { "/usr/bin/redis-server", "/usr/sbin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("No redis-server: install Debian's redis-server (./test.sh does).");
        var start = new ProcessStartInfo(redisServer)
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _folder, "--protected-mode", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start)!;

        // Beside its data, like mariadbd's pid file, so test.sh can stop a server a killed test run left behind.
        File.WriteAllText(Path.Combine(_folder, "redis.pid"), _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        ServerWatchdog.Watch(_process, "redis-server", _folder);
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }
}

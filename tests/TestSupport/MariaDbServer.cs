using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace Rooms.TestSupport;

/// <summary>
/// A real MariaDB for the tests. With <c>ROOMS_TEST_MYSQL</c> set (a connection string whose
/// user may create databases) that server is used; otherwise a throwaway server is started from
/// Debian's mariadb-server into a temp folder, on a free port, once per test process, and removed
/// when the process exits. Each caller gets a database of its own.
/// </summary>
public sealed class MariaDbServer : IDisposable
{
    public const string EnvironmentVariable = "ROOMS_TEST_MYSQL";
    private const string User = "rooms_test";
    private const string Password = "rooms_test_pw";

    private static readonly Lazy<MariaDbServer> SharedServer = new(() =>
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new MariaDbServer(external, null, 0);
        }

        var instance = StartPrivate();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => instance.Dispose();
        return instance;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string? _folder;
    private readonly int _port;
    private readonly string _adminConnectionString;
    private Process? _process;

    private MariaDbServer(string adminConnectionString, string? folder, int port)
    {
        _adminConnectionString = adminConnectionString;
        _folder = folder;
        _port = port;
    }

    public static MariaDbServer Shared => SharedServer.Value;

    /// <summary>
    /// A server of the caller's own, for tests that stall, kill and restart the database: one installation
    /// in a temp folder, on a free port. The caller disposes it.
    /// </summary>
    public static MariaDbServer StartPrivate()
    {
        var installDb = FindExecutable("mariadb-install-db", "/usr/bin/mariadb-install-db")
            ?? throw new InvalidOperationException(
                $"No MariaDB server: install Debian's mariadb-server (./test.sh does) or set {EnvironmentVariable}.");
        var folder = Path.Combine(Path.GetTempPath(), "rooms-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(folder, "data"));
        // Its own temp folder: installations running side by side once broke on each other's temp tables in the shared one.
        Directory.CreateDirectory(Path.Combine(folder, "tmp"));
        Run(installDb, $"--no-defaults --datadir={Path.Combine(folder, "data")} --tmpdir={Path.Combine(folder, "tmp")} --user=root --auth-root-authentication-method=normal --skip-test-db", TimeSpan.FromMinutes(2), Path.Combine(folder, "tmp"));

        var port = FreePort();
        var admin = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = (uint)port,
            UserID = User,
            Password = Password,
        }.ConnectionString;
        var instance = new MariaDbServer(admin, folder, port);
        instance.Launch();

        // The same kind of account the README tells operators to create.
        using (var connection = new MySqlConnection(instance.RootConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText =
                $"CREATE USER '{User}'@'%' IDENTIFIED BY '{Password}'; GRANT ALL PRIVILEGES ON *.* TO '{User}'@'%'; FLUSH PRIVILEGES;";
            command.ExecuteNonQuery();
        }

        return instance;
    }

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public string CreateDatabase()
    {
        var name = "rooms_" + Guid.NewGuid().ToString("N")[..12];
        using var connection = new MySqlConnection(_adminConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
        command.ExecuteNonQuery();
        return new MySqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open, nothing answers, as in a stalled disk.</summary>
    public void Pause() => Signal(Signals.Stop);

    /// <summary>Lets a paused server go on (SIGCONT).</summary>
    public void Resume() => Signal(Signals.Continue);

    /// <summary>Running and answering again, whatever a test did to it (for clean-up between tests).</summary>
    public void EnsureRunning()
    {
        if (_process is { HasExited: false } process)
        {
            Signals.Send(process.Id, Signals.Continue);
        }
        else if (_folder is not null)
        {
            Launch();
        }
    }

    /// <summary>Kills the server (SIGKILL), as a crash would; the data folder stays.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the killed server again on the same data folder and port (InnoDB recovers what was committed).</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    public void Dispose()
    {
        Kill();
        if (_folder is not null && Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private string Socket => Path.Combine(_folder!, "mysqld.sock");

    private string RootConnectionString => new MySqlConnectionStringBuilder
    {
        Server = Socket,
        ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
        UserID = "root",
        Pooling = false,
    }.ConnectionString;

    private void Launch()
    {
        var mariadbd = FindExecutable("mariadbd", "/usr/sbin/mariadbd", "/usr/bin/mariadbd")
            ?? throw new InvalidOperationException(
                $"No MariaDB server: install Debian's mariadb-server (./test.sh does) or set {EnvironmentVariable}.");
        var folder = _folder!;
        var server = Process.Start(new ProcessStartInfo(mariadbd,
            $"--no-defaults --datadir={Path.Combine(folder, "data")} --socket={Socket} --port={_port} --bind-address=127.0.0.1 " +
            $"--user=root --log-error={Path.Combine(folder, "error.log")} --pid-file={Path.Combine(folder, "mysqld.pid")} --tmpdir={Path.Combine(folder, "tmp")} " +
            "--innodb-buffer-pool-size=128M --max-connections=500 --skip-name-resolve")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _process = server;
        ServerWatchdog.Watch(server, "mariadbd", folder);
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        WaitUntilReachable(RootConnectionString, server, folder);
    }

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } process || !Signals.Send(process.Id, signal))
        {
            throw new InvalidOperationException($"Could not signal the test MariaDB ({signal})");
        }
    }

    private static void WaitUntilReachable(string connectionString, Process server, string folder)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var connection = new MySqlConnection(connectionString);
                connection.Open();
                return;
            }
            catch (MySqlException) when (DateTime.UtcNow < deadline && !server.HasExited)
            {
                Thread.Sleep(200);
            }
            catch (Exception ex) when (server.HasExited || DateTime.UtcNow >= deadline)
            {
                var log = Path.Combine(folder, "error.log");
                throw new InvalidOperationException(
                    "MariaDB did not start: " + (File.Exists(log) ? File.ReadAllText(log) : ex.Message), ex);
            }
        }
    }

    private static void Run(string file, string arguments, TimeSpan timeout, string? tempFolder = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (tempFolder is not null)
        {
            start.Environment["TMPDIR"] = tempFolder;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed: {output.Result}{error.Result}");
        }
    }

    private static string? FindExecutable(string name, params string[] candidates) =>
        candidates.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Diagnostics;

namespace Rooms.EndToEnd.Tests;

/// <summary>What a program the tests run (node, python3, npm, dotnet) wrote and how it ended.</summary>
public sealed record ProgramRun(int ExitCode, string Output, string Errors)
{
    /// <summary>Output then errors, for assertions and for the message of a failed one.</summary>
    public string All => Output + Errors;
}

/// <summary>Runs a program to its end, collecting what it writes; past the timeout it is killed (its whole tree) and the test fails.</summary>
public static class ExternalProgram
{
    public static async Task<ProgramRun> RunAsync(
        string program, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return new ProgramRun(process.ExitCode, await output, await errors);
    }
}

using System.IO.Compression;
using Rooms.TestSupport;

namespace Rooms.EndToEnd.Tests;

/// <summary>
/// The client libraries pack as users pack them (npm pack, pip wheel, dotnet pack), and what they pack installs and
/// loads: the npm tarball into a fresh project, the wheel into a folder of its own, the NuGet package holds the library.
/// </summary>
public sealed class ClientPackagingTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("rooms-pack-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task JavaScript_NpmPack_InstallsAndImports()
    {
        var (packed, output) = await RunAsync("npm", ["pack", "--pack-destination", _work], Clients("js"));
        Assert.True(packed == 0, output);
        var tarball = Assert.Single(Directory.GetFiles(_work, "rooms-client-*.tgz"));
        var project = Directory.CreateDirectory(Path.Combine(_work, "app")).FullName;
        await File.WriteAllTextAsync(Path.Combine(project, "package.json"), """{"name":"app","version":"1.0.0","type":"module"}""");
        var (installed, installOutput) = await RunAsync("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project);
        Assert.True(installed == 0, installOutput);
        await File.WriteAllTextAsync(Path.Combine(project, "check.mjs"),
            """import { RoomsClient, LocalStorageStore } from "rooms-client"; import { FileStore } from "rooms-client/file-store"; console.log(typeof RoomsClient, typeof LocalStorageStore, typeof FileStore);""");
        var (ran, ranOutput) = await RunAsync("/usr/bin/node", ["check.mjs"], project);
        Assert.True(ran == 0, ranOutput);
        Assert.Contains("function function function", ranOutput);
    }

    [Fact]
    public async Task Python_PipWheel_InstallsAndImports()
    {
        // Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
        var source = Path.Combine(_work, "python");
        foreach (var file in new[] { "pyproject.toml", "README.md", "rooms_client/__init__.py" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(source, file))!);
            File.Copy(Path.Combine(Clients("python"), file), Path.Combine(source, file));
        }

        var (built, output) = await RunAsync("/usr/bin/python3", ["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", _work, source], _work);
        Assert.True(built == 0, output);
        var wheel = Assert.Single(Directory.GetFiles(_work, "rooms_client-*.whl"));
        var site = Path.Combine(_work, "site");
        var (installed, installOutput) = await RunAsync("/usr/bin/python3", ["-m", "pip", "install", "--no-deps", "--no-index", "--target", site, wheel], _work);
        Assert.True(installed == 0, installOutput);
        var (ran, ranOutput) = await RunAsync("/usr/bin/python3", ["-c", $"import sys; sys.path.insert(0, '{site}'); import rooms_client; print(rooms_client.RoomsClient.__name__, rooms_client.__file__)"], _work);
        Assert.True(ran == 0, ranOutput);
        Assert.Contains($"RoomsClient {site}", ranOutput);
    }

    [Fact]
    public async Task DotNet_Pack_HoldsTheLibraryAndItsReadme()
    {
        var (packed, output) = await RunAsync("dotnet", ["pack", Path.Combine(Clients("dotnet"), "Rooms.Client"), "-c", "Release", "-o", _work, "-nologo"], _work);
        Assert.True(packed == 0, output);
        var package = Assert.Single(Directory.GetFiles(_work, "Rooms.Client.*.nupkg"));
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net10.0/Rooms.Client.dll", entries);
        Assert.Contains("README.md", entries);
    }

    private static string Clients(string language) => Path.Combine(RepositoryRoot.Path, "clients", language);

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] args, string workingDirectory)
    {
        var run = await ExternalProgram.RunAsync(program, args, TimeSpan.FromMinutes(3), workingDirectory: workingDirectory);
        return (run.ExitCode, run.All);
    }
}

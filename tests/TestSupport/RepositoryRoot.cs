namespace Rooms.TestSupport;

public static class RepositoryRoot
{
    /// <summary>The folder holding Rooms.sln, found by walking up from the test binaries.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Rooms.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Rooms.sln not found above " + AppContext.BaseDirectory);
    }
}

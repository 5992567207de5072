namespace Segmind.WanAnimate.Tests.Support;

/// <summary>Where the built module lives: the repository's out/ folder, found from the test binaries.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepositoryRoot => Root.Value;

    public static string ModuleDirectory => Path.Combine(RepositoryRoot, "out", "Segmind.WanAnimate");

    public static string ModuleManifest => Path.Combine(ModuleDirectory, "Segmind.WanAnimate.psd1");

    public static string SourceManifest => Path.Combine(RepositoryRoot, "Segmind.WanAnimate.psd1");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (directory.GetFiles("*.sln").Length > 0 || directory.GetFiles("*.slnx").Length > 0)
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("No solution file above " + AppContext.BaseDirectory + ": cannot locate the repository.");
    }
}

namespace Segmind.Benchmarks.Harness;

/// <summary>Where the built module and the baseline module live, found from the harness's own binaries.</summary>
public sealed class RepositoryLayout
{
    public const string EmptyModuleName = "Segmind.Benchmarks.EmptyModule";

    private RepositoryLayout(string root)
    {
        Root = root;
    }

    public string Root { get; }

    /// <summary>The importable module laid out by <c>dotnet build</c>.</summary>
    public string ModuleManifest => Path.Combine(Root, "out", "Segmind.WanAnimate", "Segmind.WanAnimate.psd1");

    /// <summary>The baseline module's assembly, copied next to the harness by the build (not referenced by it).</summary>
    public static string EmptyModuleAssembly => Path.Combine(AppContext.BaseDirectory, EmptyModuleName + ".dll");

    public static RepositoryLayout Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (directory.GetFiles("*.sln").Length > 0 || directory.GetFiles("*.slnx").Length > 0)
            {
                return new RepositoryLayout(directory.FullName);
            }
        }

        throw new InvalidOperationException("No solution file above " + AppContext.BaseDirectory + ": run the harness from the repository (dotnet run --project bench/Segmind.Benchmarks).");
    }

    public void EnsureModuleBuilt()
    {
        if (!File.Exists(ModuleManifest))
        {
            throw new InvalidOperationException("The module is not laid out at " + ModuleManifest + ": build it first (dotnet build -c Release).");
        }

        if (!File.Exists(EmptyModuleAssembly))
        {
            throw new InvalidOperationException("The baseline module " + EmptyModuleAssembly + " is missing: rebuild the harness.");
        }
    }

    /// <summary>
    /// Lays out the baseline module (its assembly and a minimal manifest) in <paramref name="parent"/> and returns the
    /// manifest's path.
    /// </summary>
    public static string WriteEmptyModule(string parent)
    {
        var folder = Path.Combine(parent, EmptyModuleName);
        Directory.CreateDirectory(folder);
        File.Copy(EmptyModuleAssembly, Path.Combine(folder, EmptyModuleName + ".dll"), overwrite: true);
        var manifest = Path.Combine(folder, EmptyModuleName + ".psd1");
        File.WriteAllText(manifest, string.Join(Environment.NewLine, new[]
        {
            "@{",
            "    RootModule           = '" + EmptyModuleName + ".dll'",
            "    ModuleVersion        = '1.0.0'",
            "    CompatiblePSEditions = @('Desktop', 'Core')",
            "    GUID                 = '3d1c7f0e-8a55-4c2b-9f64-0b7e2a41c9d8'",
            "    PowerShellVersion    = '5.1'",
            "    CmdletsToExport      = @('Get-EmptyModuleValue')",
            "    FunctionsToExport    = @()",
            "    VariablesToExport    = @()",
            "    AliasesToExport      = @()",
            "}",
            string.Empty,
        }));
        return manifest;
    }
}

/// <summary>A folder under the system's temporary directory, deleted (best effort) on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "segmind-bench-" + purpose + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("  (could not delete " + Path + ": " + error.Message + ")");
        }
    }
}

using System.Diagnostics;
using System.Text.Json;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// The Segmind.WanAnimate.TestHost console program running one journaled Invoke-WanAnimate batch in its own
/// process, so a test can kill it outright. Disposing kills it (and its children) if it still runs.
/// </summary>
public sealed class TestHostProcess : IDisposable
{
    private const string ProjectName = "Segmind.WanAnimate.TestHost";

    private readonly Process _process;
    private readonly List<string> _lines = new();

    private TestHostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (_lines)
                {
                    _lines.Add(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>True once the child has exited and everything it printed has been read (its last lines can lag its exit).</summary>
    public bool HasExited
    {
        get
        {
            if (!_process.HasExited)
            {
                return false;
            }

            // Without a timeout, WaitForExit also waits for the redirected output to reach its end.
            _process.WaitForExit();
            return true;
        }
    }

    /// <summary>What the child printed so far ("RESULT ...", "ERROR ...", "DONE").</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return _lines.ToList();
            }
        }
    }

    public static TestHostProcess Start(
        TemporaryDirectory directory,
        Uri baseUri,
        IEnumerable<(string Id, string InputVideo, string ReferenceImage, string Prompt)> rows,
        string journalPath,
        string outputDirectory,
        int throttleLimit,
        int requestsPerMinute = 0,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var rowsPath = directory.File("rows.json");
        File.WriteAllText(rowsPath, JsonSerializer.Serialize(rows.Select(r => new Dictionary<string, string>
        {
            ["Id"] = r.Id,
            ["input_video"] = r.InputVideo,
            ["reference_image"] = r.ReferenceImage,
            ["prompt"] = r.Prompt,
            ["mode"] = "animation",
            ["resolution"] = "480p",
        })));

        // The key goes in a file, not on the command line, where any process could read it.
        var settingsPath = directory.File("host-settings.json");
        File.WriteAllText(settingsPath, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["ModuleManifest"] = RepositoryPaths.ModuleManifest,
            ["BaseUri"] = baseUri.AbsoluteUri,
            ["ApiKey"] = EmulatorFixture.ApiKey,
            ["JournalPath"] = journalPath,
            ["OutputDirectory"] = outputDirectory,
            ["RowsPath"] = rowsPath,
            ["PollIntervalSeconds"] = 0.05,
            ["ThrottleLimit"] = throttleLimit,
            ["RequestsPerMinute"] = requestsPerMinute,
        }));

        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        start.ArgumentList.Add(LocateHost());
        start.ArgumentList.Add(settingsPath);

        // The child must reach the emulator directly, whatever proxy the machine is set up with.
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        start.Environment.Remove("SEGMIND_API_KEY");
        start.Environment.Remove("SEGMIND_BASE_URL");
        foreach (var pair in environment ?? new Dictionary<string, string>())
        {
            // Secrets for the child (a journal table's SAS) travel in its environment, never on its command line.
            start.Environment[pair.Key] = pair.Value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + ProjectName + ".");
        return new TestHostProcess(process);
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        if (!_process.WaitForExit(30_000))
        {
            throw new TimeoutException(ProjectName + " did not exit after being killed.");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(30_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    /// <summary>
    /// The built host, in the configuration the tests were built in (the test project builds it through a
    /// ProjectReference that is not referenced as an assembly: it is a separate program).
    /// </summary>
    private static string LocateHost()
    {
        // The tests run from bin/<configuration>/<framework>/.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/', '\\'))) ?? "Debug";
        if (configuration != "Debug" && configuration != "Release")
        {
            configuration = "Debug";
        }

        var host = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", ProjectName, "bin", configuration, "net10.0", ProjectName + ".dll");
        return File.Exists(host) ? host : throw new FileNotFoundException("The test host was not built: " + host);
    }
}

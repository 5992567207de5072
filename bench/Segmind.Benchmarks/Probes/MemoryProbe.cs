using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Segmind.Benchmarks.Harness;
using Segmind.Client;

namespace Segmind.Benchmarks.Probes;

/// <summary>
/// <c>--memory-probe idle|track|track-core|save ...</c>: a process holding only the PowerShell engine and the module (the
/// emulator runs in the parent), so what it measures is what a user's pwsh session would hold. The key and address
/// come from SEGMIND_API_KEY and SEGMIND_BASE_URL, as a runbook would set them.
/// </summary>
public static class MemoryProbe
{
    public const string Argument = "--memory-probe";
    public const string ReadyLine = "ready";
    public const string GoLine = "go";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            Console.Error.WriteLine(Argument + " needs a mode: idle, track or save.");
            return 2;
        }

        using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        Invoke(runspace, "Import-Module -Name $args[0] -ErrorAction Stop", RepositoryLayout.Find().ModuleManifest);
        return args[0] switch
        {
            "idle" => Idle(runspace),
            "track" when args.Count == 3 => Track(runspace, args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)),
            "track-core" when args.Count == 3 => TrackWithCore(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)),
            "save" when args.Count == 6 => Save(runspace, args[1], args[2], args[3], args[4], args[5]),
            _ => Fail("Unknown memory probe '" + string.Join(' ', args) + "'."),
        };
    }

    /// <summary>The engine with the module imported and one API call made: the floor the other probes are read against.</summary>
    private static int Idle(Runspace runspace)
    {
        var credit = Invoke(runspace, "Get-SegmindCredit");
        if (credit.Count != 1)
        {
            return Fail("Get-SegmindCredit returned " + credit.Count + " objects.");
        }

        var memory = ProcessMemory.Read();
        ChildProcess.WriteResult(new Dictionary<string, double>
        {
            ["peak_resident"] = memory.PeakResidentBytes,
            ["resident"] = memory.ResidentBytes,
            ["private_resident"] = memory.PrivateResidentBytes,
            ["managed"] = GC.GetTotalMemory(false),
        });
        return 0;
    }

    /// <summary>
    /// One Wait-WanAnimateJob over every job in the file (tab-separated id, status URL, response URL), streamed into it
    /// the way Import-Csv streams rows; results are counted, not kept.
    /// </summary>
    private static int Track(Runspace runspace, string jobsFile, double timeoutSeconds)
    {
        const string Script = @"
[System.IO.File]::ReadLines($args[0]) |
    ForEach-Object { $f = $_.Split(""`t""); [pscustomobject]@{ RequestId = $f[0]; StatusUrl = $f[1]; ResponseUrl = $f[2] } } |
    Wait-WanAnimateJob -Timeout $args[1] |
    ForEach-Object -Begin { $completed = 0 } -Process { $completed++ } -End { $completed }";

        var watch = Stopwatch.StartNew();
        using var sampler = new MemorySampler(TimeSpan.FromMilliseconds(50));
        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddScript(Script).AddArgument(jobsFile).AddArgument(TimeSpan.FromSeconds(timeoutSeconds));
        var output = shell.Invoke();
        watch.Stop();
        sampler.Dispose();
        var memory = ProcessMemory.Read();
        ChildProcess.WriteResult(new Dictionary<string, double>
        {
            ["completed"] = output.Count == 1 ? Convert.ToDouble(output[0].BaseObject, System.Globalization.CultureInfo.InvariantCulture) : -1,
            ["errors"] = shell.Streams.Error.Count,
            ["peak_resident"] = Math.Max(memory.PeakResidentBytes, sampler.MaxResidentBytes),
            ["peak_private_resident"] = sampler.MaxPrivateBytes,
            ["peak_managed"] = sampler.MaxManagedBytes,
            ["peak_heap_after_gc"] = sampler.MaxHeapAfterGcBytes,
            ["seconds"] = watch.Elapsed.TotalSeconds,
        });
        return 0;
    }

    /// <summary>
    /// The same jobs followed by the core's shared poller (JobBatchTracker over one JobPoller, default back-off) in the
    /// same kind of process (engine and module loaded): what one Wait-WanAnimateJob would hold if it used them.
    /// </summary>
    private static int TrackWithCore(string jobsFile, double timeoutSeconds)
    {
        var watch = Stopwatch.StartNew();
        using var sampler = new MemorySampler(TimeSpan.FromMilliseconds(50));
        var baseUri = new Uri(Environment.GetEnvironmentVariable(SegmindClientOptions.BaseUriEnvironmentVariable) ?? throw new InvalidOperationException("No base address."));
        using var client = new SegmindClient(new SegmindClientOptions { BaseUri = baseUri, ApiKey = ApiKey.FromEnvironment() });
        using var poller = new JobPoller(client);
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);
        using var tracker = new JobBatchTracker(poller, PollSchedule.Default, DateTimeOffset.UtcNow + timeout);
        foreach (var line in File.ReadLines(jobsFile))
        {
            var fields = line.Split('\t');
            tracker.Add(new JobReference(fields[0], new Uri(fields[1]), new Uri(fields[2])));
        }

        int completed = 0, errors = 0;
        while (tracker.Remaining > 0 && watch.Elapsed < timeout + TimeSpan.FromSeconds(30))
        {
            if (tracker.TryTake(TimeSpan.FromMilliseconds(250), CancellationToken.None, out var outcome))
            {
                if (outcome.Succeeded)
                {
                    completed++;
                }
                else
                {
                    errors++;
                }
            }
        }

        watch.Stop();
        sampler.Dispose();
        var memory = ProcessMemory.Read();
        ChildProcess.WriteResult(new Dictionary<string, double>
        {
            ["completed"] = completed,
            ["errors"] = errors,
            ["peak_resident"] = Math.Max(memory.PeakResidentBytes, sampler.MaxResidentBytes),
            ["peak_private_resident"] = sampler.MaxPrivateBytes,
            ["peak_managed"] = sampler.MaxManagedBytes,
            ["peak_heap_after_gc"] = sampler.MaxHeapAfterGcBytes,
            ["seconds"] = watch.Elapsed.TotalSeconds,
        });
        return 0;
    }

    /// <summary>
    /// Saves a small output first (so the download path is loaded and compiled), says "ready", waits for "go" (the
    /// parent then makes outputs big), and measures the resident peak while Save-WanAnimateOutput writes the big one.
    /// </summary>
    private static int Save(Runspace runspace, string warmId, string warmResponseUrl, string bigId, string bigResponseUrl, string directory)
    {
        const string Script = "Save-WanAnimateOutput -RequestId $args[0] -ResponseUrl $args[1] -Directory $args[2]";
        Invoke(runspace, Script, warmId, warmResponseUrl, directory);
        Console.Out.WriteLine(ReadyLine);
        Console.Out.Flush();
        if (Console.In.ReadLine() != GoLine)
        {
            return Fail("The parent did not say go.");
        }

        var before = ProcessMemory.Read();
        var peakWasReset = ProcessMemory.TryResetPeak();
        var watch = Stopwatch.StartNew();
        PSObject result;
        long sampledPeak;
        using (var sampler = new MemorySampler(TimeSpan.FromMilliseconds(5)))
        {
            var output = Invoke(runspace, Script, bigId, bigResponseUrl, directory);
            if (output.Count != 1)
            {
                return Fail("Save-WanAnimateOutput returned " + output.Count + " objects.");
            }

            result = output[0];
            sampler.Dispose();
            sampledPeak = sampler.MaxResidentBytes;
        }

        watch.Stop();
        var after = ProcessMemory.Read();
        var peak = Math.Max(sampledPeak, peakWasReset ? after.PeakResidentBytes : 0);
        var file = result.Properties["OutputFile"]?.Value as string;
        var length = file != null && File.Exists(file) ? new FileInfo(file).Length : -1;
        ChildProcess.WriteResult(new Dictionary<string, double>
        {
            ["before_resident"] = before.ResidentBytes,
            ["peak_resident"] = peak,
            ["growth"] = peak - before.ResidentBytes,
            ["file_bytes"] = length,
            ["seconds"] = watch.Elapsed.TotalSeconds,
            ["peak_from_os"] = peakWasReset ? 1 : 0,
        });
        return 0;
    }

    private static System.Collections.ObjectModel.Collection<PSObject> Invoke(Runspace runspace, string script, params object[] arguments)
    {
        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddScript(script);
        foreach (var argument in arguments)
        {
            shell.AddArgument(argument);
        }

        var output = shell.Invoke();
        if (shell.Streams.Error.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" | ", shell.Streams.Error.Take(3).Select(e => e.FullyQualifiedErrorId + ": " + e)));
        }

        return output;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }
}

using System.Globalization;
using Segmind.Benchmarks.Harness;
using Segmind.Benchmarks.Probes;
using Segmind.Client;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 5. Memory, each in a process of its own that holds only the PowerShell engine and the module (the emulator stays
/// in this process): the peak while one Wait-WanAnimateJob tracks 10,000 jobs, against the same process after one
/// API call; and the growth of the resident set while Save-WanAnimateOutput writes a 500 MiB output.
/// </summary>
public static class MemoryFigure
{
    private const double MaxPeakBytes = 150e6;
    private const double MaxGrowthBytes = 32e6;

    public static async Task RunAsync(BenchSettings settings, Report report)
    {
        await TrackAsync(settings, report);
        await SaveAsync(settings, report);
    }

    private static async Task TrackAsync(BenchSettings settings, Report report)
    {
        var count = settings.TrackJobs;
        const double JobSeconds = 400;
        var scale = settings.TrackJobRealSeconds / JobSeconds;
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = scale;
            options.Workers = count;
            options.ProcessingSeconds = JobSeconds;
        });
        var environment = ProbeEnvironment(server.BaseUri);

        var idle = await ChildProcess.RunProbeAsync(new[] { MemoryProbe.Argument, "idle" }, environment, TimeSpan.FromSeconds(120));
        Console.Error.WriteLine($"  idle: peak {Units.Bytes(idle["peak_resident"])}");

        server.Reset();
        using var raw = new RawSegmindClient(server.BaseUri, Emulators.ApiKey);
        var jobs = await raw.SubmitAllAsync(BenchRows.Parameters(count, "tracking"), 32);
        using var folder = new TemporaryFolder("track");
        var jobsFile = Path.Combine(folder.Path, "jobs.tsv");
        await File.WriteAllLinesAsync(jobsFile, jobs.Select(job => job.RequestId + "\t" + job.StatusUrl.AbsoluteUri + "\t" + job.ResponseUrl.AbsoluteUri));

        var waitSeconds = (settings.TrackJobRealSeconds * 4) + 120;
        var track = await TrackProbeAsync("track", jobsFile, waitSeconds, environment, count);

        // The same number of fresh jobs followed by the core's shared poller in the same kind of process.
        server.Reset();
        jobs = await raw.SubmitAllAsync(BenchRows.Parameters(count, "tracking-core"), 32);
        await File.WriteAllLinesAsync(jobsFile, jobs.Select(job => job.RequestId + "\t" + job.StatusUrl.AbsoluteUri + "\t" + job.ResponseUrl.AbsoluteUri));
        var core = await TrackProbeAsync("track-core", jobsFile, waitSeconds, environment, count);

        var peak = track["peak_resident"];
        report.Add(new FigureRow(
            "5a",
            $"Peak resident memory, one Wait-WanAnimateJob tracking {count:N0} jobs",
            Units.Bytes(peak),
            Units.Bytes(idle["peak_resident"]) + " (same process, module imported, one call)",
            "+" + Units.Bytes(peak - idle["peak_resident"]) + " (target ≤ " + Units.Bytes(MaxPeakBytes) + " peak)",
            peak <= MaxPeakBytes ? Verdict.Pass : Verdict.Miss));
        report.Add(new FigureRow(
            "5b",
            $"… of which private and managed, tracking {count:N0} jobs",
            Units.Bytes(track["peak_private_resident"]) + " private resident; managed heap " + Units.Bytes(track["peak_heap_after_gc"]) + " after GC (" + Units.Bytes(track["peak_managed"]) + " with garbage)",
            Units.Bytes(idle["private_resident"]) + " private resident; managed heap " + Units.Bytes(idle["managed"]),
            "+" + Units.Bytes(Math.Max(0, track["peak_heap_after_gc"] - idle["managed"]) / count * 1000) + " managed (after GC) per 1,000 jobs",
            Verdict.Info));
        report.Add(new FigureRow(
            "5c",
            $"… the same {count:N0} jobs through the core's shared JobPoller (JobBatchTracker), same process kind",
            Units.Bytes(core["peak_resident"]) + " peak; managed heap " + Units.Bytes(core["peak_heap_after_gc"]) + " after GC",
            "as 5a",
            "+" + Units.Bytes(core["peak_resident"] - idle["peak_resident"]) + " over the baseline (" + (core["peak_resident"] <= MaxPeakBytes ? "within" : "over") + " the " + Units.Bytes(MaxPeakBytes) + " target)",
            Verdict.Info));
        report.Note($"5a/5b: a child process (PowerShell 7 engine, module imported by manifest, SEGMIND_API_KEY/SEGMIND_BASE_URL set) streams {count:N0} job rows into one `Wait-WanAnimateJob` with its default back-off; jobs run {settings.TrackJobRealSeconds:0} s (real) and all complete ({Units.Seconds(track["seconds"])} in all). Peak resident is the OS high-water mark (VmHWM); private = resident anonymous memory and the managed heap (its size after the latest collection, and GC.GetTotalMemory with uncollected garbage) are sampled every 50 ms.");
    }

    private static async Task SaveAsync(BenchSettings settings, Report report)
    {
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = 1;
            options.Workers = 4;
            options.ProcessingSeconds = 400;
            options.OutputPaddingBytes = 0;
        });
        using var raw = new RawSegmindClient(server.BaseUri, Emulators.ApiKey);
        var jobs = await raw.SubmitAllAsync(BenchRows.Parameters(2, "save"), 2);
        foreach (var job in jobs)
        {
            server.CompleteJob(job.RequestId);
        }

        using var folder = new TemporaryFolder("save");
        var bytes = settings.SaveBytes;
        var save = await ChildProcess.RunProbeAsync(
            new[] { MemoryProbe.Argument, "save", jobs[0].RequestId, jobs[0].ResponseUrl.AbsoluteUri, jobs[1].RequestId, jobs[1].ResponseUrl.AbsoluteUri, folder.Path },
            ProbeEnvironment(server.BaseUri),
            TimeSpan.FromSeconds(600),
            async (line, input) =>
            {
                if (line == MemoryProbe.ReadyLine)
                {
                    // The small output is saved and the download path compiled: from now on outputs are big.
                    server.Options.OutputPaddingBytes = bytes;
                    await input.WriteLineAsync(MemoryProbe.GoLine);
                    await input.FlushAsync();
                }
            });
        if (save["file_bytes"] < bytes)
        {
            throw new InvalidOperationException($"Not a valid run: the saved file has {save["file_bytes"]} bytes, expected more than {bytes}.");
        }

        var growth = save["growth"];
        Console.Error.WriteLine($"  save: {Units.Bytes(save["file_bytes"])} in {Units.Seconds(save["seconds"])}, growth {Units.Bytes(growth)}");
        report.Add(new FigureRow(
            "5d",
            $"Resident growth while Save-WanAnimateOutput writes a {bytes / (1024 * 1024)} MiB output",
            Units.Bytes(growth) + " (" + Units.Bytes(save["before_resident"]) + " → " + Units.Bytes(save["peak_resident"]) + ")",
            Units.Bytes(save["file_bytes"]) + " file",
            "target ≤ " + Units.Bytes(MaxGrowthBytes),
            growth <= MaxGrowthBytes ? Verdict.Pass : Verdict.Miss));
        report.Note($"5d: the same kind of child process saves a small output first (warm), then the resident set is read, its high-water mark {(save["peak_from_os"] > 0 ? "reset by the OS (clear_refs) and read back" : "sampled every 5 ms")}, while one `Save-WanAnimateOutput -RequestId … -Directory …` downloads {Units.Bytes(save["file_bytes"])} from the emulator in {Units.Seconds(save["seconds"])}.");
    }

    private static async Task<IReadOnlyDictionary<string, double>> TrackProbeAsync(string mode, string jobsFile, double waitSeconds, IReadOnlyDictionary<string, string> environment, int count)
    {
        var result = await ChildProcess.RunProbeAsync(
            new[] { MemoryProbe.Argument, mode, jobsFile, waitSeconds.ToString(CultureInfo.InvariantCulture) },
            environment,
            TimeSpan.FromSeconds(waitSeconds + 120));
        if ((int)result["completed"] != count || result["errors"] != 0)
        {
            throw new InvalidOperationException($"Not a valid run ({mode}): {result["completed"]} results and {result["errors"]} errors for {count} jobs.");
        }

        Console.Error.WriteLine($"  {mode} {count:N0}: peak {Units.Bytes(result["peak_resident"])} in {Units.Seconds(result["seconds"])}");
        return result;
    }

    private static IReadOnlyDictionary<string, string> ProbeEnvironment(Uri baseUri) => new Dictionary<string, string>
    {
        [ApiKey.EnvironmentVariable] = Emulators.ApiKey,
        [SegmindClientOptions.BaseUriEnvironmentVariable] = baseUri.AbsoluteUri,
    };
}

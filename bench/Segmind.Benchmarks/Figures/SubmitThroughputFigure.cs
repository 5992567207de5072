using System.Diagnostics;
using System.Management.Automation;
using Segmind.Benchmarks.Harness;
using Segmind.Client;
using Segmind.Emulator;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 2. 1,000 CSV-like rows piped through New-WanAnimateJob -ThrottleLimit 16, against a raw HttpClient loop posting
/// the same JSON with 16 in flight, on one emulator that is reset before every run. Both are warmed up first.
/// On loopback the server answers in microseconds, so this is the client's CPU cost per submit; the same runs with
/// an emulated network round trip show what a batch sees against a remote server.
/// </summary>
public static class SubmitThroughputFigure
{
    private const double Target = 0.8;
    private const double RoundTripSeconds = 0.05;

    public static async Task RunAsync(BenchSettings settings, RepositoryLayout layout, Report report)
    {
        // Jobs only need to be accepted: they stay queued (400 s each, real time) and cost nothing to hold.
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = 1;
            options.Workers = 4;
            options.ProcessingSeconds = 400;
        });
        using var raw = new RawSegmindClient(server.BaseUri, Emulators.ApiKey);
        using var shell = new HostedPowerShell(layout.ModuleManifest, server.BaseUri, Emulators.ApiKey);
        var key = new ApiKey(Emulators.ApiKey);
        using var core = new SegmindClient(new SegmindClientOptions { BaseUri = server.BaseUri, ApiKey = key });

        var rows = settings.SubmitRows;
        var concurrency = settings.SubmitConcurrency;
        RequestGateRegistry.Configure(key, server.BaseUri, throttleLimit: concurrency);
        var rawRows = BenchRows.Parameters(rows, "throughput");
        var coreRows = Requests(rawRows);
        var csvRows = BenchRows.CsvRows(rows, "throughput");

        // Warm-up: JIT, connection pools and the module's first use, for every side.
        server.Reset();
        await raw.SubmitAllAsync(BenchRows.Parameters(50, "warm-up"), concurrency);
        server.Reset();
        await SubmitWithCoreAsync(core, Requests(BenchRows.Parameters(50, "warm-up")), concurrency);
        server.Reset();
        RunModule(shell, server, BenchRows.CsvRows(50, "warm-up"), concurrency);

        var rawSeconds = new List<double>();
        var coreSeconds = new List<double>();
        var oursSeconds = new List<double>();
        for (var round = 0; round < settings.SubmitRounds; round++)
        {
            rawSeconds.Add(await TimeAsync(server, rows, () => raw.SubmitAllAsync(rawRows, concurrency)));
            coreSeconds.Add(await TimeAsync(server, rows, () => SubmitWithCoreAsync(core, coreRows, concurrency)));
            server.Reset();
            Collect();
            oursSeconds.Add(RunModule(shell, server, csvRows, concurrency));
            Console.Error.WriteLine($"  round {round + 1}/{settings.SubmitRounds}: ours {Rate(rows, oursSeconds[^1])}, core alone {Rate(rows, coreSeconds[^1])}, raw {Rate(rows, rawSeconds[^1])}");
        }

        // Where the module's time goes: the same pipeline with -WhatIf binds and validates every row but sends nothing.
        shell.SetVariable("rows", csvRows);
        Collect();
        var dryRun = Stopwatch.StartNew();
        shell.Run("$rows | New-WanAnimateJob -ThrottleLimit $throttle -WhatIf");
        dryRun.Stop();

        // With a network round trip: every submit answer is held back RoundTripSeconds, as a remote server's would be.
        server.Options.Faults.Submit = new FaultProfile { SlowResponseProbability = 1, SlowResponseSeconds = RoundTripSeconds };
        var rawRemote = await TimeAsync(server, rows, () => raw.SubmitAllAsync(rawRows, concurrency));
        server.Reset();
        Collect();
        var oursRemote = RunModule(shell, server, csvRows, concurrency);
        server.Options.Faults.Clear();
        Console.Error.WriteLine($"  with a {RoundTripSeconds * 1000:0} ms round trip: ours {Rate(rows, oursRemote)}, raw {Rate(rows, rawRemote)}");

        var ratio = Statistics.Median(rawSeconds) / Statistics.Median(oursSeconds);
        report.Add(new FigureRow(
            "2a",
            $"Submission throughput, {rows:N0} piped rows, {concurrency} in flight, loopback",
            Rate(rows, Statistics.Median(oursSeconds)),
            Rate(rows, Statistics.Median(rawSeconds)) + " (raw HttpClient, SemaphoreSlim " + concurrency + ")",
            Units.Ratio(ratio) + " of raw (target ≥ " + Units.Ratio(Target) + ")",
            ratio >= Target ? Verdict.Pass : Verdict.Miss));
        var remoteRatio = rawRemote / oursRemote;
        report.Add(new FigureRow(
            "2b",
            $"The same with a {RoundTripSeconds * 1000:0} ms server round trip",
            Rate(rows, oursRemote),
            Rate(rows, rawRemote) + " (raw)",
            Units.Ratio(remoteRatio) + " of raw (target ≥ " + Units.Ratio(Target) + ")",
            remoteRatio >= Target ? Verdict.Pass : Verdict.Miss));
        report.Add(new FigureRow(
            "2c",
            "… the client core alone (SegmindClient.SubmitAsync, no PowerShell), loopback",
            Rate(rows, Statistics.Median(coreSeconds)),
            Rate(rows, Statistics.Median(rawSeconds)) + " (raw)",
            Units.Ratio(Statistics.Median(rawSeconds) / Statistics.Median(coreSeconds)) + " of raw",
            Verdict.Info));
        report.Note($"2: `$rows | New-WanAnimateJob -ThrottleLimit {concurrency}` in a hosted PowerShell 7 runspace, rows as Import-Csv gives them (all strings), timed from the first row to the last job object; the raw loop posts the same JSON and parses the same three fields. Median of {settings.SubmitRounds} round(s) on loopback, emulator reset before each; every run created exactly {rows:N0} jobs. Milliseconds per {rows:N0}: ours {Ms(oursSeconds)}, core alone {Ms(coreSeconds)}, raw {Ms(rawSeconds)}; binding and validating the rows alone (`-WhatIf`, nothing sent) took {Units.Milliseconds(dryRun.Elapsed.TotalMilliseconds)}. 2b holds every submit answer {RoundTripSeconds * 1000:0} ms in the emulator (one run each).");
    }

    private static async Task<double> TimeAsync(EmulatorServer server, int rows, Func<Task> run)
    {
        server.Reset();
        Collect();
        var watch = Stopwatch.StartNew();
        await run();
        watch.Stop();
        Require(server.Counters.AcceptedSubmits == rows, $"{server.Counters.AcceptedSubmits} jobs were created, not {rows}");
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Pipes the rows through New-WanAnimateJob; returns the seconds it took.</summary>
    private static double RunModule(HostedPowerShell shell, EmulatorServer server, List<PSObject> rows, int concurrency)
    {
        shell.SetVariable("rows", rows);
        shell.SetVariable("throttle", concurrency);
        var watch = Stopwatch.StartNew();
        var jobs = shell.Run("$rows | New-WanAnimateJob -ThrottleLimit $throttle");
        watch.Stop();
        Require(jobs.Count == rows.Count, $"New-WanAnimateJob wrote {jobs.Count} jobs for {rows.Count} rows");
        Require(server.Counters.AcceptedSubmits == rows.Count, $"the module created {server.Counters.AcceptedSubmits} jobs for {rows.Count} rows");
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task SubmitWithCoreAsync(SegmindClient client, IReadOnlyList<WanAnimateRequest> requests, int concurrency)
    {
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        await Task.WhenAll(requests.Select(async request =>
        {
            await slots.WaitAsync().ConfigureAwait(false);
            try
            {
                await client.SubmitAsync(request).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    private static List<WanAnimateRequest> Requests(IEnumerable<IReadOnlyDictionary<string, object?>> rows) => rows.Select(row => new WanAnimateRequest
    {
        InputVideo = (string)row["input_video"]!,
        ReferenceImage = (string)row["reference_image"]!,
        Prompt = (string)row["prompt"]!,
        Mode = (string)row["mode"]!,
        Resolution = (string)row["resolution"]!,
        Seed = (long)row["seed"]!,
    }).ToList();

    private static string Rate(int rows, double seconds) => Units.Number(rows / seconds, "0") + " jobs/s";

    private static string Ms(List<double> seconds) => Units.Number(Statistics.Median(seconds) * 1000, "0");

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Not a valid run: " + what + ".");
        }
    }
}

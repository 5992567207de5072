using System.Diagnostics;
using Segmind.Benchmarks.Harness;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 4. A 200-row batch through <c>$rows | Invoke-WanAnimate -OutputDirectory</c> (submit, wait, save), with the
/// emulator running 20 jobs at a time of 10 s each and no queue delay: 10 waves, so nothing can finish in less than
/// 100 emulated seconds. The wall time is compared with that minimum.
/// </summary>
public static class BatchWallTimeFigure
{
    private const double Target = 1.15;

    public static async Task RunAsync(BenchSettings settings, RepositoryLayout layout, Report report)
    {
        var scale = settings.BatchTimeScale;
        var rows = settings.BatchRows;
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = scale;
            options.Workers = settings.BatchWorkers;
            options.ProcessingSeconds = settings.BatchJobSeconds;
            options.QueueSeconds = 0;
        });
        using var shell = new HostedPowerShell(layout.ModuleManifest, server.BaseUri, Emulators.ApiKey);
        using var folder = new TemporaryFolder("batch");
        var pollInterval = TimeSpan.FromSeconds(settings.BatchPollSeconds * scale);
        const string Script = "$rows | Invoke-WanAnimate -OutputDirectory $directory -ThrottleLimit 16 -PollInterval $poll -Timeout 900";
        shell.SetVariable("poll", pollInterval);

        // Warm-up: one row end to end, so the timed batch does not include first-use compilation.
        server.Reset();
        shell.SetVariable("rows", BenchRows.CsvRows(1, "batch-warm-up"));
        shell.SetVariable("directory", Path.Combine(folder.Path, "warm-up"));
        shell.Run(Script);

        server.Reset();
        var batch = BenchRows.CsvRows(rows, "batch");
        var directory = Path.Combine(folder.Path, "batch");
        shell.SetVariable("rows", batch);
        shell.SetVariable("directory", directory);
        var watch = Stopwatch.StartNew();
        var results = shell.Run(Script);
        watch.Stop();

        var saved = results.Count(result => result.Properties["OutputFile"]?.Value is string file && File.Exists(file));
        if (results.Count != rows || saved != rows || server.Counters.AcceptedSubmits != rows)
        {
            throw new InvalidOperationException($"Not a valid run: {results.Count} results, {saved} files saved and {server.Counters.AcceptedSubmits} jobs created for {rows} rows.");
        }

        var waves = Math.Ceiling(rows / (double)settings.BatchWorkers);
        var minimum = waves * settings.BatchJobSeconds;
        var wall = watch.Elapsed.TotalSeconds / scale;
        var ratio = wall / minimum;

        // How much of the gap is the server's own (first accept to last completion) and how much the client's.
        var ids = server.Counters.AcceptedRequestIds;
        var firstAccepted = ids.Select(id => server.Counters.AcceptedAt(id)!.Value).Min();
        var lastCompleted = ids.Select(id => server.Counters.CompletedAt(id)!.Value).Max();
        var serverSpan = (lastCompleted - firstAccepted).TotalSeconds / scale;
        var statusPerJob = server.Counters.Requests(Segmind.Emulator.EndpointGroup.Status) / (double)rows;

        report.Add(new FigureRow(
            "4",
            $"{rows}-row batch, {settings.BatchWorkers} workers × {settings.BatchJobSeconds:0} s jobs: wall time, emulated s",
            Units.Seconds(wall),
            Units.Seconds(minimum) + $" (theoretical: {waves:0} waves × {settings.BatchJobSeconds:0} s)",
            Units.Ratio(ratio) + " (target ≤ " + Units.Ratio(Target) + ")",
            ratio <= Target ? Verdict.Pass : Verdict.Miss));
        report.Note($"4: `$rows | Invoke-WanAnimate -OutputDirectory <dir> -ThrottleLimit 16 -PollInterval {settings.BatchPollSeconds:0}` (emulated seconds; {Units.Milliseconds(pollInterval.TotalMilliseconds)} real at time scale {scale}), from the first row piped to the last video saved. The module's default back-off runs on the real clock and cannot be scaled, so its first step is used as a fixed interval. The emulator itself took {Units.Seconds(serverSpan)} from the first accepted job to the last completion; {Units.Number(statusPerJob)} status requests per job.");
    }
}

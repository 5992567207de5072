using Segmind.Benchmarks.Harness;
using Segmind.Benchmarks.Probes;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 1. Import-Module of the built module against a one-cmdlet binary module, each in a new process (cold), timed inside
/// the process around Import-Module alone. Runs alternate between the two so drift in machine load hits both.
/// </summary>
public static class ImportTimeFigure
{
    private const double Target = 1.5;

    public static async Task RunAsync(BenchSettings settings, RepositoryLayout layout, Report report)
    {
        using var folder = new TemporaryFolder("import");
        var emptyManifest = RepositoryLayout.WriteEmptyModule(folder.Path);
        var timeout = TimeSpan.FromSeconds(120);

        // One unrecorded launch each: the first reads every file from disk, which says more about the disk than the module.
        await ProbeAsync(emptyManifest, timeout);
        await ProbeAsync(layout.ModuleManifest, timeout);

        var ours = new List<double>();
        var empty = new List<double>();
        var opens = new List<double>();
        for (var run = 0; run < settings.ImportRuns; run++)
        {
            var order = run % 2 == 0 ? new[] { false, true } : new[] { true, false };
            foreach (var isOurs in order)
            {
                var result = await ProbeAsync(isOurs ? layout.ModuleManifest : emptyManifest, timeout);
                (isOurs ? ours : empty).Add(result["import_ms"]);
                opens.Add(result["open_ms"]);
            }

            Console.Error.WriteLine($"  run {run + 1}/{settings.ImportRuns}: ours {Units.Milliseconds(ours[^1])}, empty {Units.Milliseconds(empty[^1])}");
        }

        var oursMedian = Statistics.Median(ours);
        var emptyMedian = Statistics.Median(empty);
        var ratio = oursMedian / emptyMedian;
        report.Add(new FigureRow(
            "1",
            $"Import-Module, new process each run (median of {settings.ImportRuns})",
            Units.Milliseconds(oursMedian),
            Units.Milliseconds(emptyMedian) + " (one-cmdlet binary module)",
            Units.Ratio(ratio) + " (target ≤ " + Units.Ratio(Target) + ")",
            ratio <= Target ? Verdict.Pass : Verdict.Miss));
        report.Note($"1: Import-Module alone, timed inside a fresh process after a default runspace is open (opening it took a median {Units.Milliseconds(Statistics.Median(opens))} more, paid by any module). Ours ranged {Units.Milliseconds(ours.Min())}–{Units.Milliseconds(ours.Max())}, the baseline {Units.Milliseconds(empty.Min())}–{Units.Milliseconds(empty.Max())}.");
    }

    private static Task<IReadOnlyDictionary<string, double>> ProbeAsync(string manifest, TimeSpan timeout) =>
        ChildProcess.RunProbeAsync(new[] { ImportProbe.Argument, manifest }, environment: null, timeout);
}

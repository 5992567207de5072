using System.Diagnostics;
using System.Globalization;
using Segmind.Benchmarks.Figures;
using Segmind.Benchmarks.Harness;
using Segmind.Benchmarks.Micro;
using Segmind.Benchmarks.Probes;

namespace Segmind.Benchmarks;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Reports read the same on every machine: decimal points, not the local separator.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        // Probes: this same executable relaunched for a figure that needs a process of its own.
        if (args.Length > 0 && args[0] == ImportProbe.Argument)
        {
            return ImportProbe.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == MemoryProbe.Argument)
        {
            return MemoryProbe.Run(args[1..]);
        }

        BenchSettings settings;
        try
        {
            settings = BenchSettings.Parse(args);
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine(error.Message);
            return 2;
        }

        if (settings.Help)
        {
            Console.WriteLine(BenchSettings.Usage);
            return 0;
        }

        if (settings.Micro)
        {
            CoreMicroBenchmarks.Run();
            return 0;
        }

        var layout = RepositoryLayout.Find();
        layout.EnsureModuleBuilt();

        // Standard output carries the table only; progress, and any server log, go to standard error.
        var tableWriter = Console.Out;
        Console.SetOut(Console.Error);

        var started = DateTimeOffset.UtcNow;
        var load = Report.LoadAverage();
        var report = new Report();
        var figures = new (int Number, string Name, Func<Task> Run)[]
        {
            (1, "import time", () => ImportTimeFigure.RunAsync(settings, layout, report)),
            (2, "submission throughput", () => SubmitThroughputFigure.RunAsync(settings, layout, report)),
            (3, "polling cost", () => PollingCostFigure.RunAsync(settings, report)),
            (4, "batch wall time", () => BatchWallTimeFigure.RunAsync(settings, layout, report)),
            (5, "memory", () => MemoryFigure.RunAsync(settings, report)),
            (6, "batch controller", () => BatchControllerFigure.RunAsync(settings, report)),
        };

        foreach (var (number, name, run) in figures.Where(figure => settings.Figures.Contains(figure.Number)))
        {
            Console.Error.WriteLine($"[{number}] {name}...");
            var watch = Stopwatch.StartNew();
            try
            {
                await run();
            }
            catch (Exception error)
            {
                report.Add(new FigureRow(number.ToString(CultureInfo.InvariantCulture), name, "not measured", "-", error.GetType().Name + ": " + error.Message, Verdict.Error));
                Console.Error.WriteLine(error);
            }

            Console.Error.WriteLine($"[{number}] {name}: {Units.Seconds(watch.Elapsed.TotalSeconds)}");
        }

        var text = report.Render(settings, started, load);
        tableWriter.Write(text);
        tableWriter.Flush();
        if (settings.OutFile != null)
        {
            await File.WriteAllTextAsync(settings.OutFile, text);
        }

        return report.Count(Verdict.Error) > 0 ? 1 : 0;
    }
}

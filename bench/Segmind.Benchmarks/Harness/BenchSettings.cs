using System.Globalization;

namespace Segmind.Benchmarks.Harness;

/// <summary>What the command line asked for, and the sizes of every figure in full and quick runs.</summary>
public sealed class BenchSettings
{
    public const int FigureCount = 6;

    public bool Quick { get; private init; }

    public bool Micro { get; private init; }

    public bool Help { get; private init; }

    /// <summary>Figures to run (1-based); all of them by default.</summary>
    public IReadOnlySet<int> Figures { get; private init; } = new HashSet<int>(Enumerable.Range(1, FigureCount));

    /// <summary>Also write the report to this file.</summary>
    public string? OutFile { get; private init; }

    // 1. Import time: cold processes per module (after one unrecorded launch each, so disk caches are warm for both).
    public int ImportRuns => Quick ? 3 : 7;

    // 2. Submission throughput.
    public int SubmitRows => 1000;
    public int SubmitConcurrency => 16;
    public int SubmitRounds => Quick ? 3 : 7;

    // 3. Polling cost: 400-second jobs, time-scaled.
    public int PollJobs => Quick ? 12 : 40;
    public double PollJobSeconds => 400;
    public double PollTimeScale => Quick ? 0.02 : 0.05;

    // 4. Batch wall time: 200 rows, 20 workers, 10-second jobs.
    public int BatchRows => 200;
    public int BatchWorkers => 20;
    public double BatchJobSeconds => 10;
    public double BatchTimeScale => Quick ? 0.1 : 0.2;

    /// <summary>
    /// Emulated seconds between status checks in the batch. The module's back-off runs on the real clock and has no
    /// time scale, so the batch uses -PollInterval with the back-off's first step (2 s), scaled like the emulator.
    /// </summary>
    public double BatchPollSeconds => 2;

    // 5. Memory.
    public int TrackJobs => Quick ? 2000 : 10000;

    /// <summary>Real seconds each tracked job runs, so every job is tracked at once for a few poll rounds.</summary>
    public double TrackJobRealSeconds => Quick ? 12 : 20;

    public long SaveBytes => (Quick ? 128L : 500L) * 1024 * 1024;

    public static string Usage => string.Join(Environment.NewLine, new[]
    {
        "Segmind.Benchmarks: the module against raw HTTP and simple poll loops, on a local emulator (127.0.0.1 only).",
        string.Empty,
        "  dotnet run -c Release --project bench/Segmind.Benchmarks [-- options]",
        string.Empty,
        "  --quick          smaller, shorter run (fewer samples, faster time scales, 2,000 tracked jobs, 128 MiB save)",
        "  --only 2,3       run only these figures (1 import, 2 submit throughput, 3 polling, 4 batch, 5 memory, 6 batch controller)",
        "  --out FILE       also write the report (markdown) to FILE",
        "  --micro          run the BenchmarkDotNet micro benchmarks of the core instead of the figures",
        "  --help           this text",
    });

    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        var quick = false;
        var micro = false;
        var help = false;
        string? outFile = null;
        HashSet<int>? figures = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--micro":
                    micro = true;
                    break;
                case "--help":
                case "-h":
                case "-?":
                    help = true;
                    break;
                case "--out":
                    outFile = Next(args, ref i);
                    break;
                case "--only":
                    figures = ParseFigures(Next(args, ref i));
                    break;
                default:
                    throw new ArgumentException("Unknown option '" + args[i] + "'. Use --help for the list.");
            }
        }

        return new BenchSettings
        {
            Quick = quick,
            Micro = micro,
            Help = help,
            OutFile = outFile,
            Figures = figures ?? new HashSet<int>(Enumerable.Range(1, FigureCount)),
        };
    }

    private static string Next(IReadOnlyList<string> args, ref int index)
    {
        if (index + 1 >= args.Count)
        {
            throw new ArgumentException("Option '" + args[index] + "' needs a value.");
        }

        return args[++index];
    }

    private static HashSet<int> ParseFigures(string text)
    {
        var figures = new HashSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var figure) || figure < 1 || figure > FigureCount)
            {
                throw new ArgumentException("--only takes figure numbers from 1 to " + FigureCount + ", e.g. --only 2,3.");
            }

            figures.Add(figure);
        }

        if (figures.Count == 0)
        {
            throw new ArgumentException("--only needs at least one figure number.");
        }

        return figures;
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Segmind.Benchmarks.Harness;

public enum Verdict
{
    Pass,
    Miss,
    Info,
    Error,
}

/// <summary>One line of the table: a figure, ours against its baseline, and the target it is held to.</summary>
public sealed record FigureRow(string Number, string Figure, string Ours, string Baseline, string RatioAndTarget, Verdict Verdict);

/// <summary>The one markdown table the harness prints, with the machine it ran on and how each figure was taken.</summary>
public sealed class Report
{
    private readonly List<FigureRow> _rows = new();
    private readonly List<string> _notes = new();

    public void Add(FigureRow row) => _rows.Add(row);

    public void Note(string note) => _notes.Add(note);

    public int Count(Verdict verdict) => _rows.Count(row => row.Verdict == verdict);

    public string Render(BenchSettings settings, DateTimeOffset started, string loadAtStart)
    {
        var text = new StringBuilder();
        text.AppendLine("## Segmind.WanAnimate benchmarks (" + (settings.Quick ? "quick run" : "full run") + ")");
        text.AppendLine();
        text.AppendLine(Machine(started, loadAtStart));
        text.AppendLine();
        text.AppendLine("| # | figure | ours | baseline | ratio / target | result |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var row in _rows)
        {
            text.Append("| ").Append(Cell(row.Number))
                .Append(" | ").Append(Cell(row.Figure))
                .Append(" | ").Append(Cell(row.Ours))
                .Append(" | ").Append(Cell(row.Baseline))
                .Append(" | ").Append(Cell(row.RatioAndTarget))
                .Append(" | ").Append(Label(row.Verdict))
                .AppendLine(" |");
        }

        if (_notes.Count > 0)
        {
            text.AppendLine();
            foreach (var note in _notes)
            {
                text.Append("- ").AppendLine(note);
            }
        }

        return text.ToString();
    }

    private static string Label(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Miss => "**miss**",
        Verdict.Info => "info",
        _ => "**error**",
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", string.Empty, StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Machine(DateTimeOffset started, string loadAtStart)
    {
        var memory = TotalMemoryBytes();
        return string.Format(
            CultureInfo.InvariantCulture,
            "{0:yyyy-MM-dd HH:mm} UTC; {1} logical CPUs; {2}; {3}; {4} {5}; load average at start {6}.",
            started.UtcDateTime,
            Environment.ProcessorCount,
            memory > 0 ? Units.Bytes(memory) + " memory" : "memory unknown",
            RuntimeInformation.OSDescription.Trim(),
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            loadAtStart);
    }

    private static long TotalMemoryBytes()
    {
        try
        {
            if (File.Exists("/proc/meminfo"))
            {
                foreach (var line in File.ReadLines("/proc/meminfo"))
                {
                    if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                    {
                        return ProcessMemory.ParseKilobytes(line) * 1024;
                    }
                }
            }
        }
        catch (IOException)
        {
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>The 1-minute load average where the OS tells it, so noisy runs can be recognised.</summary>
    public static string LoadAverage()
    {
        try
        {
            if (File.Exists("/proc/loadavg"))
            {
                var parts = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 3)
                {
                    return parts[0] + " / " + parts[1] + " / " + parts[2];
                }
            }
        }
        catch (IOException)
        {
        }

        return "unknown";
    }
}

/// <summary>Number formatting shared by every figure (invariant culture, so reports read the same everywhere).</summary>
public static class Units
{
    /// <summary>Decimal megabytes (10^6), the unit the memory targets are stated in.</summary>
    public static string Bytes(double bytes) => bytes >= 1e10
        ? (bytes / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + " GB"
        : (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB";

    public static string Number(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Ratio(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "x";

    public static string Milliseconds(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public static string Seconds(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}

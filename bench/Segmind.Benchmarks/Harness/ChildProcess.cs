using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Segmind.Benchmarks.Harness;

/// <summary>
/// Runs this harness again in a new process (a probe), so a figure can start from a cold process or measure a
/// process that holds nothing but the PowerShell engine and the module. Probes report one line:
/// <c>probe-result {json}</c>.
/// </summary>
public static class ChildProcess
{
    public const string ResultPrefix = "probe-result ";

    /// <summary>
    /// Starts the probe, hands every line it prints to <paramref name="onLine"/> (with its standard input, for
    /// probes that wait for a go-ahead) and returns its result. Kills it when <paramref name="timeout"/> passes.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, double>> RunProbeAsync(
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string>? environment,
        TimeSpan timeout,
        Func<string, StreamWriter, Task>? onLine = null)
    {
        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath ?? throw new InvalidOperationException("The harness's own executable is unknown."),
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };

        // Launched as "dotnet Segmind.Benchmarks.dll": the probe needs the assembly named again.
        if (string.Equals(Path.GetFileNameWithoutExtension(start.FileName), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (environment != null)
        {
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
        }

        using var process = new Process { StartInfo = start };
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (errors)
                {
                    errors.AppendLine(e.Data);
                }
            }
        };

        process.Start();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        string? result = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith(ResultPrefix, StringComparison.Ordinal))
                {
                    result = line[ResultPrefix.Length..];
                }
                else if (onLine != null)
                {
                    await onLine(line, process.StandardInput).ConfigureAwait(false);
                }
            }

            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // Only this probe (and anything it started) is ended, by its own id.
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The probe '" + string.Join(' ', arguments.Take(2)) + "' did not finish within " + timeout.TotalSeconds + " s.");
        }

        string stderr;
        lock (errors)
        {
            stderr = errors.ToString().Trim();
        }

        if (process.ExitCode != 0 || result == null)
        {
            throw new InvalidOperationException(
                "The probe '" + string.Join(' ', arguments.Take(2)) + "' failed (exit code " + process.ExitCode + ")"
                + (stderr.Length > 0 ? ": " + Tail(stderr) : "."));
        }

        return JsonSerializer.Deserialize<Dictionary<string, double>>(result)
            ?? throw new InvalidOperationException("The probe printed an empty result.");
    }

    /// <summary>Prints a probe's result line: what <see cref="RunProbeAsync"/> reads back.</summary>
    public static void WriteResult(IReadOnlyDictionary<string, double> values)
    {
        Console.Out.WriteLine(ResultPrefix + JsonSerializer.Serialize(values));
        Console.Out.Flush();
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : "..." + text[^2000..];
}

using System.Diagnostics;
using System.Globalization;

namespace Segmind.Benchmarks.Harness;

/// <summary>This process's memory as the OS sees it: resident set, its high-water mark, and resident private (anonymous) memory.</summary>
public readonly record struct MemorySnapshot(long ResidentBytes, long PeakResidentBytes, long PrivateResidentBytes);

public static class ProcessMemory
{
    private const string StatusFile = "/proc/self/status";
    private const string ClearRefsFile = "/proc/self/clear_refs";

    public static MemorySnapshot Read()
    {
        if (File.Exists(StatusFile))
        {
            long rss = 0, hwm = 0, anon = 0;
            foreach (var line in File.ReadLines(StatusFile))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKilobytes(line) * 1024;
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKilobytes(line) * 1024;
                }
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    anon = ParseKilobytes(line) * 1024;
                }
            }

            return new MemorySnapshot(rss, Math.Max(hwm, rss), anon);
        }

        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new MemorySnapshot(process.WorkingSet64, Math.Max(process.PeakWorkingSet64, process.WorkingSet64), process.PrivateMemorySize64);
    }

    /// <summary>
    /// Resets the resident high-water mark to the current resident size (Linux: "5" into clear_refs), so the peak of one
    /// operation can be read afterwards. False where the OS does not offer it; the sampler's maximum is used then.
    /// </summary>
    public static bool TryResetPeak()
    {
        try
        {
            if (!File.Exists(ClearRefsFile))
            {
                return false;
            }

            File.WriteAllText(ClearRefsFile, "5");
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>"VmRSS:     12345 kB" -> 12345.</summary>
    public static long ParseKilobytes(string line)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
    }
}

/// <summary>
/// Samples resident, private and managed memory on its own thread until disposed, keeping the maxima: the OS keeps a
/// peak only for the resident set, and none for the managed heap.
/// </summary>
public sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private readonly TimeSpan _interval;
    private readonly ManualResetEventSlim _stop = new(false);
    private long _maxResident;
    private long _maxPrivate;
    private long _maxManaged;
    private long _maxHeap;
    private int _samples;
    private int _disposed;

    public MemorySampler(TimeSpan interval)
    {
        _interval = interval;
        Sample();
        _thread = new Thread(Run) { IsBackground = true, Name = "memory sampler", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public long MaxResidentBytes => Interlocked.Read(ref _maxResident);

    public long MaxPrivateBytes => Interlocked.Read(ref _maxPrivate);

    /// <summary>Largest <see cref="GC.GetTotalMemory(bool)"/> seen: live objects plus garbage not yet collected.</summary>
    public long MaxManagedBytes => Interlocked.Read(ref _maxManaged);

    /// <summary>Largest GC heap size seen after a collection (what the GC kept, fragmentation included).</summary>
    public long MaxHeapAfterGcBytes => Interlocked.Read(ref _maxHeap);

    public int Samples => Volatile.Read(ref _samples);

    /// <summary>Stops sampling (after one last sample); the maxima stay readable. Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Set();
        _thread.Join();
        Sample();
        _stop.Dispose();
    }

    private void Run()
    {
        while (!_stop.Wait(_interval))
        {
            Sample();
        }
    }

    private void Sample()
    {
        var snapshot = ProcessMemory.Read();
        Max(ref _maxResident, snapshot.ResidentBytes);
        Max(ref _maxPrivate, snapshot.PrivateResidentBytes);
        Max(ref _maxManaged, GC.GetTotalMemory(false));
        Max(ref _maxHeap, GC.GetGCMemoryInfo(GCKind.Any).HeapSizeBytes);
        Interlocked.Increment(ref _samples);
    }

    private static void Max(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

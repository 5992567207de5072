using System.Diagnostics;

namespace Segmind.Emulator;

/// <summary>
/// The one clock every emulated duration is measured on (queue, processing, retention, rate-limit window).
/// Emulated time runs <c>1 / TimeScale</c> times as fast as real time. The scale is read live; when it changes,
/// emulated time continues from where it was, so no job jumps backwards or skips ahead.
/// </summary>
public sealed class ScaledClock
{
    private sealed record Anchor(long RealTimestamp, double EmulatedSeconds, double Scale);

    private readonly Func<double> _scale;
    private readonly DateTimeOffset _origin = DateTimeOffset.UtcNow;
    private Anchor _anchor;

    public ScaledClock(Func<double> scale)
    {
        _scale = scale;
        _anchor = new Anchor(Stopwatch.GetTimestamp(), 0, Sanitize(scale()));
    }

    /// <summary>
    /// Emulated wall-clock time: the real time the clock started plus the emulated seconds since. A client on a
    /// scaled clock that starts at this instant with the same scale reads the same time as the emulator.
    /// </summary>
    public DateTimeOffset EmulatedUtcNow => _origin.AddTicks((long)(Now * TimeSpan.TicksPerSecond));

    /// <summary>The current real seconds per emulated second.</summary>
    public double Scale => Sanitize(_scale());

    /// <summary>Emulated seconds since the clock started.</summary>
    public double Now
    {
        get
        {
            while (true)
            {
                var anchor = Volatile.Read(ref _anchor);
                var timestamp = Stopwatch.GetTimestamp();
                var scale = Scale;
                var emulated = anchor.EmulatedSeconds + RealSecondsBetween(anchor.RealTimestamp, timestamp) / anchor.Scale;
                if (scale == anchor.Scale)
                {
                    return emulated;
                }

                // Re-anchor at the current instant so the new scale only applies from now on.
                var rebased = new Anchor(timestamp, emulated, scale);
                if (Interlocked.CompareExchange(ref _anchor, rebased, anchor) == anchor)
                {
                    return emulated;
                }
            }
        }
    }

    /// <summary>The real duration of <paramref name="emulatedSeconds"/> at the current scale.</summary>
    public TimeSpan ToReal(double emulatedSeconds)
    {
        var seconds = Math.Max(0, emulatedSeconds) * Scale;
        return seconds >= TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The wall-clock moment of emulated instant <paramref name="emulatedInstant"/>, projected at the current scale.</summary>
    public DateTimeOffset WallTimeOf(double emulatedInstant)
    {
        var now = Now;
        var wallNow = DateTimeOffset.UtcNow;
        var offsetSeconds = (emulatedInstant - now) * Scale;
        return wallNow.AddTicks((long)(offsetSeconds * TimeSpan.TicksPerSecond));
    }

    private static double RealSecondsBetween(long from, long to) => (double)(to - from) / Stopwatch.Frequency;

    private static double Sanitize(double scale) => scale > 0 && !double.IsInfinity(scale) ? scale : 1.0;
}

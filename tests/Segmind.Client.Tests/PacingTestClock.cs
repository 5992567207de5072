using Segmind.Client;

namespace Segmind.Client.Tests;

/// <summary>
/// A <see cref="TimeProvider"/> that only moves when a test says so. Timers fire in due order, inline, with the clock set to their due
/// time: a discrete-event simulation, so minutes of pacing and polling run in milliseconds and deterministically.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<ManualTimer> _timers = new();
    private DateTimeOffset _now;

    public ManualClock(DateTimeOffset? start = null)
    {
        _now = start ?? new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    }

    public override DateTimeOffset GetUtcNow() => UtcNow;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => UtcNow.UtcTicks;

    public DateTimeOffset UtcNow
    {
        get
        {
            lock (_lock)
            {
                return _now;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, () => callback(state));
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by) => AdvanceTo(UtcNow + by);

    /// <summary>Moves to <paramref name="target"/>, firing every timer due on the way at its own due time.</summary>
    public void AdvanceTo(DateTimeOffset target)
    {
        while (true)
        {
            ManualTimer? next = null;
            lock (_lock)
            {
                foreach (var timer in _timers)
                {
                    if (timer.Due is DateTimeOffset due && due <= target && (next is null || due < next.Due))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    if (target > _now)
                    {
                        _now = target;
                    }

                    return;
                }

                if (next.Due > _now)
                {
                    _now = next.Due!.Value;
                }

                next.Due = null;
            }

            next.Callback();
        }
    }

    /// <summary>Advances in steps, so code that reacts between timers (tests disposing slots) gets its turn.</summary>
    public void AdvanceInSteps(TimeSpan total, TimeSpan step, Action? afterEachStep = null)
    {
        var end = UtcNow + total;
        while (UtcNow < end)
        {
            var next = UtcNow + step;
            AdvanceTo(next < end ? next : end);
            afterEachStep?.Invoke();
        }
    }

    /// <summary>One-shot: a period is not needed by the code under test and is ignored.</summary>
    private sealed class ManualTimer : ITimer
    {
        private readonly ManualClock _clock;

        public ManualTimer(ManualClock clock, Action callback)
        {
            _clock = clock;
            Callback = callback;
        }

        public Action Callback { get; }

        /// <summary>When it fires next; null when not armed. Guarded by the clock's lock.</summary>
        public DateTimeOffset? Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_clock._lock)
            {
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : _clock._now + (dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime);
            }

            return true;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }

        public void Dispose()
        {
            lock (_clock._lock)
            {
                Due = null;
                _clock._timers.Remove(this);
            }
        }
    }
}

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Time that runs <c>1 / Scale</c> times as fast as the real clock: at <see cref="Scale"/> 0.01 an emulated hour
    /// passes in 36 real seconds. Give it to <see cref="SegmindClientOptions.TimeProvider"/> and run the emulator with
    /// the same <c>TimeScale</c>, and every delay, poll, token bucket, pause and back-off of the client keeps pace with
    /// the emulator's jobs. For dry runs and benchmarks; production uses <see cref="TimeProvider.System"/>.
    /// </summary>
    public sealed class ScaledTimeProvider : TimeProvider
    {
        private readonly DateTimeOffset _start;
        private readonly long _startTimestamp;

        /// <param name="scale">Real seconds per emulated second, in (0, 1000].</param>
        /// <param name="start">The instant the clock reads now; null is the real current time.</param>
        public ScaledTimeProvider(double scale, DateTimeOffset? start = null)
        {
            if (double.IsNaN(scale) || scale <= 0 || scale > 1000)
            {
                throw new SegmindValidationException("TimeScale", "The time scale must be above 0 and at most 1000.");
            }

            Scale = scale;
            _start = start ?? DateTimeOffset.UtcNow;
            _startTimestamp = Stopwatch.GetTimestamp();
        }

        /// <summary>Real seconds per emulated second.</summary>
        public double Scale { get; }

        public override DateTimeOffset GetUtcNow() => _start + TimeSpan.FromTicks((long)(RealElapsed().Ticks / Scale));

        public override long TimestampFrequency => Stopwatch.Frequency;

        public override long GetTimestamp() => _startTimestamp + (long)((Stopwatch.GetTimestamp() - _startTimestamp) / Scale);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            new ScaledTimer(this, TimeProvider.System.CreateTimer(callback, state, ToReal(dueTime), ToReal(period)));

        private TimeSpan RealElapsed() => TimeSpan.FromTicks((long)((Stopwatch.GetTimestamp() - _startTimestamp) * ((double)TimeSpan.TicksPerSecond / Stopwatch.Frequency)));

        private TimeSpan ToReal(TimeSpan emulated)
        {
            if (emulated == Timeout.InfiniteTimeSpan || emulated <= TimeSpan.Zero)
            {
                return emulated;
            }

            return TimeSpan.FromTicks(Math.Max(1, (long)(emulated.Ticks * Scale)));
        }

        private sealed class ScaledTimer : ITimer
        {
            private readonly ScaledTimeProvider _owner;
            private readonly ITimer _inner;

            public ScaledTimer(ScaledTimeProvider owner, ITimer inner)
            {
                _owner = owner;
                _inner = inner;
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => _inner.Change(_owner.ToReal(dueTime), _owner.ToReal(period));

            public void Dispose() => _inner.Dispose();

            public ValueTask DisposeAsync() => _inner.DisposeAsync();
        }
    }
}

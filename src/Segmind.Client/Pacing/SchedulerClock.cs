using System;
using System.Threading;

namespace Segmind.Client
{
    /// <summary>
    /// Time as the gate and the poller see it: the current instant and one-shot timers. Production code uses
    /// <see cref="SystemSchedulerClock"/>; tests substitute a manual clock so minutes of pacing run in milliseconds.
    /// </summary>
    internal abstract class SchedulerClock
    {
        public abstract DateTimeOffset UtcNow { get; }

        /// <summary>A timer that runs <paramref name="callback"/> once per <see cref="ISchedulerTimer.Schedule"/>.</summary>
        public abstract ISchedulerTimer CreateTimer(Action callback);
    }

    internal interface ISchedulerTimer : IDisposable
    {
        /// <summary>(Re)arms the timer to fire once after <paramref name="dueIn"/>; replaces any earlier arming.</summary>
        void Schedule(TimeSpan dueIn);
    }

    internal sealed class SystemSchedulerClock : SchedulerClock
    {
        public static SystemSchedulerClock Instance { get; } = new SystemSchedulerClock();

        // The longest due time System.Threading.Timer accepts is about 49.7 days; longer waits re-arm on firing.
        private static readonly TimeSpan LongestDue = TimeSpan.FromMilliseconds(uint.MaxValue - 2);

        public override DateTimeOffset UtcNow => DateTimeOffset.UtcNow;

        public override ISchedulerTimer CreateTimer(Action callback) => new SystemTimer(callback);

        private sealed class SystemTimer : ISchedulerTimer
        {
            private readonly Timer _timer;

            public SystemTimer(Action callback)
            {
                _timer = new Timer(_ => callback(), null, Timeout.Infinite, Timeout.Infinite);
            }

            public void Schedule(TimeSpan dueIn)
            {
                if (dueIn < TimeSpan.Zero)
                {
                    dueIn = TimeSpan.Zero;
                }

                if (dueIn > LongestDue)
                {
                    dueIn = LongestDue;
                }

                _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
            }

            public void Dispose() => _timer.Dispose();
        }
    }
}

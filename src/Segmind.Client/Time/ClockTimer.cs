using System;
using System.Threading;

namespace Segmind.Client
{
    /// <summary>
    /// The one-shot, re-armable timer the gate and the poller wake up on, created from the client's
    /// <see cref="TimeProvider"/> so a test clock or a scaled clock drives it exactly like the real one.
    /// </summary>
    internal sealed class ClockTimer : IDisposable
    {
        // The longest due time System.Threading.Timer accepts is about 49.7 days; longer waits re-arm on firing.
        private static readonly TimeSpan LongestDue = TimeSpan.FromMilliseconds(uint.MaxValue - 2);

        private readonly ITimer _timer;

        public ClockTimer(TimeProvider time, Action callback)
        {
            if (time is null)
            {
                throw new ArgumentNullException(nameof(time));
            }

            _timer = time.CreateTimer(state => ((Action)state!)(), callback, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        /// <summary>(Re)arms the timer to fire once after <paramref name="dueIn"/>; replaces any earlier arming.</summary>
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

namespace Segmind.Client
{
    internal static class ClockDeadline
    {
        /// <summary>
        /// Cancels <paramref name="source"/> after <paramref name="timeout"/> on <paramref name="time"/>'s clock (nothing for
        /// zero or infinite). Dispose the result with the source; null when the source's own timer did it.
        /// </summary>
        public static IDisposable? CancelAfter(CancellationTokenSource source, TimeSpan timeout, TimeProvider? time)
        {
            if (timeout <= TimeSpan.Zero || timeout == Timeout.InfiniteTimeSpan)
            {
                return null;
            }

            if (time is null || ReferenceEquals(time, TimeProvider.System))
            {
                source.CancelAfter(timeout);
                return null;
            }

            var timer = new ClockTimer(time, () =>
            {
                try
                {
                    source.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The call ended first.
                }
            });
            timer.Schedule(timeout);
            return timer;
        }
    }
}

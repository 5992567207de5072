using System;

namespace Segmind.Client
{
    /// <summary>
    /// Delay before the n-th status poll: starts near <see cref="Initial"/>, grows by <see cref="Factor"/> to
    /// <see cref="Max"/>, each delay spread by ±<see cref="Jitter"/> so many jobs do not poll in step.
    /// A 400-second job costs a few dozen polls, not hundreds.
    /// </summary>
    public sealed class PollSchedule
    {
        public PollSchedule(TimeSpan initial, TimeSpan max, double factor = 1.5, double jitter = 0.2)
        {
            if (initial <= TimeSpan.Zero) throw new SegmindValidationException("PollInterval", "The first poll delay must be positive.");
            if (max < initial) throw new SegmindValidationException("PollInterval", "The largest poll delay must not be below the first.");
            if (factor < 1) throw new SegmindValidationException("PollInterval", "The back-off factor must be at least 1.");
            if (jitter < 0 || jitter >= 1) throw new SegmindValidationException("PollInterval", "Jitter must be in [0, 1).");
            Initial = initial;
            Max = max;
            Factor = factor;
            Jitter = jitter;
        }

        /// <summary>
        /// 2 s growing to 13 s, ±10 %: even with every delay jittered to its shortest, a 400-second job needs at most
        /// 38 polls (about 34 on average; ±20 % at a 12 s ceiling could take 46), a finished job is noticed after
        /// about 6.5 s on average and within 14.3 s, and the spread still keeps many jobs from polling in step.
        /// </summary>
        public static PollSchedule Default { get; } = new PollSchedule(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(13), 1.5, 0.1);

        /// <summary>The same delay every time (still jittered a little).</summary>
        public static PollSchedule Fixed(TimeSpan interval) => new PollSchedule(interval, interval, 1, 0.1);

        public TimeSpan Initial { get; }
        public TimeSpan Max { get; }
        public double Factor { get; }
        public double Jitter { get; }

        /// <summary>Delay before poll number <paramref name="attempt"/> (0 = the first poll after submit).</summary>
        public TimeSpan NextDelay(int attempt, Random random)
        {
            var baseTicks = Initial.Ticks * Math.Pow(Factor, Math.Max(0, Math.Min(attempt, 64)));
            var capped = Math.Min(baseTicks, Max.Ticks);
            var spread = 1 + ((random.NextDouble() * 2) - 1) * Jitter;
            return TimeSpan.FromTicks((long)Math.Max(1, capped * spread));
        }
    }
}

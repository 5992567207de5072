using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.Http
{
    /// <summary>
    /// Bounded retries with exponential back-off and full jitter, honouring the server's wait hint.
    /// The delay and the clock are injectable so the bounds can be tested without sleeping.
    /// </summary>
    internal sealed class RetryLoop
    {
        // The real-time defaults are only for a loop built without a delay and a clock (tests); the client passes its own.
        private static readonly Stopwatch Monotonic = Stopwatch.StartNew();

        private readonly Func<RetryOptions> _options;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;
        private readonly Func<TimeSpan> _clock;
        private readonly Func<double> _random;

        public RetryLoop(Func<RetryOptions> options, Func<TimeSpan, CancellationToken, Task>? delay = null, Func<TimeSpan>? clock = null, Func<double>? random = null)
        {
            _options = options;
            _delay = delay ?? Task.Delay;
            _clock = clock ?? (() => Monotonic.Elapsed);
            _random = random ?? SharedRandom.NextDouble;
        }

        /// <summary>
        /// Runs <paramref name="attempt"/> (given its 1-based number) until it succeeds, throws something
        /// <paramref name="isRetryable"/> rejects, or the attempt/time budget is spent; the last error is rethrown as is.
        /// <paramref name="onRetry"/> is told (failed attempt, wait, error) before each wait, for tracing.
        /// </summary>
        public async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, Func<Exception, bool> isRetryable, CancellationToken cancellationToken, Action<int, TimeSpan, Exception>? onRetry = null)
        {
            var options = _options();
            var maxAttempts = Math.Max(1, options.MaxAttempts);
            var started = _clock();

            for (var number = 1; ; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TimeSpan delay;
                try
                {
                    return await attempt(number, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception error) when (!(error is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    if (!isRetryable(error) || number >= maxAttempts)
                    {
                        throw;
                    }

                    delay = NextDelay(number, (error as SegmindException)?.RetryAfterHint, options);
                    if (_clock() - started + delay > options.MaxTotal)
                    {
                        throw;
                    }

                    onRetry?.Invoke(number, delay, error);
                }

                if (delay > TimeSpan.Zero)
                {
                    await _delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>The wait after failed attempt <paramref name="failedAttempt"/> (1-based).</summary>
        public TimeSpan NextDelay(int failedAttempt, TimeSpan? serverHint, RetryOptions options)
        {
            var maxDelay = options.MaxDelay < TimeSpan.Zero ? TimeSpan.Zero : options.MaxDelay;
            if (serverHint.HasValue)
            {
                // The server knows when its window reopens; a little spread keeps many clients from returning together.
                var hintCap = Ticks(maxDelay) * 4;
                var hint = Math.Min(Math.Max(0, serverHint.Value.Ticks), hintCap);
                var spread = Math.Min(Ticks(options.BaseDelay), hint / 10 + 1) * _random();
                return TimeSpan.FromTicks((long)(hint + spread));
            }

            var exponent = Math.Min(failedAttempt - 1, 30);
            var ceiling = Math.Min(Ticks(options.BaseDelay) * Math.Pow(2, exponent), Ticks(maxDelay));

            // Full jitter, with a floor of a tenth of the ceiling so a retry is never immediate.
            var jittered = ceiling * (0.1 + 0.9 * _random());
            return TimeSpan.FromTicks((long)jittered);
        }

        private static double Ticks(TimeSpan value) => Math.Max(0, value.Ticks);
    }

    /// <summary>A lock-guarded Random: System.Random is not thread-safe and netstandard2.0 has no Random.Shared.</summary>
    internal static class SharedRandom
    {
        private static readonly Random Random = new Random();

        public static double NextDouble()
        {
            lock (Random)
            {
                return Random.NextDouble();
            }
        }

        /// <summary>A seed for a private Random: instances created in the same tick would otherwise repeat each other on .NET Framework.</summary>
        public static int NextSeed()
        {
            lock (Random)
            {
                return Random.Next();
            }
        }
    }
}

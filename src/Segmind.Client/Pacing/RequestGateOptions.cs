using System;

namespace Segmind.Client
{
    /// <summary>
    /// The budget of one <see cref="RequestGate"/>: how many requests may be in flight and how many may start a minute.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Defaults (see <see cref="ForBaseUri"/>): for Segmind itself, <see cref="ThrottleLimit"/> = 4 and
    /// <see cref="RequestsPerMinute"/> = 20. Segmind publishes per-account limits between 5 and 50 requests a minute;
    /// 20 sits inside the common tiers and keeps a 1,000-row batch moving; it is a ceiling: on a 5-a-minute account
    /// every 429 pauses the account until the server's reset time, and once 429s persist the gate learns the budget
    /// from what the server accepted and sends just under it (see <see cref="RequestGate"/>), instead of failing rows. Four requests in flight are enough to keep that rate busy even when one
    /// answer is slow, without opening a burst of connections.
    /// </para>
    /// <para>
    /// For a loopback address (the local emulator) the rate is unlimited (a local server has no paid tier to respect
    /// and tests must not wait), with the same in-flight limit; the emulator's own 429s still slow the gate down.
    /// </para>
    /// </remarks>
    public sealed class RequestGateOptions
    {
        /// <summary>Requests in flight when nothing says otherwise.</summary>
        public const int DefaultThrottleLimit = 4;

        /// <summary>Requests a minute to Segmind's hosted API when nothing says otherwise. See the remarks.</summary>
        public const double DefaultRequestsPerMinute = 20;

        /// <summary>The lowest rate adaptive slow-down goes to.</summary>
        public const double MinimumRequestsPerMinute = 1;

        /// <summary>
        /// Requests in flight at once (at least 1). Blocking v1 runs (<see cref="RequestKind.SyncRun"/>) hold their
        /// connection for the whole job, minutes long, so they take a token but not an in-flight slot: otherwise a few
        /// of them would stall every status poll.
        /// </summary>
        public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

        /// <summary>Requests that may start a minute; null or 0 means unlimited (429s still slow the gate down).</summary>
        public double? RequestsPerMinute { get; set; }

        /// <summary>
        /// How many requests may start back to back after a quiet spell. Null means a tenth of the rate, between 1
        /// and 5: enough to fetch a finished job's result without waiting, small enough that a minute never sees
        /// much more than <see cref="RequestsPerMinute"/> requests.
        /// </summary>
        public int? Burst { get; set; }

        /// <summary>The defaults for this base address: unlimited rate on loopback (the emulator), 20 a minute elsewhere.</summary>
        public static RequestGateOptions ForBaseUri(Uri baseUri)
        {
            if (baseUri is null)
            {
                throw new ArgumentNullException(nameof(baseUri));
            }

            return new RequestGateOptions
            {
                ThrottleLimit = DefaultThrottleLimit,
                RequestsPerMinute = Http.UriRules.IsLoopback(baseUri) ? (double?)null : DefaultRequestsPerMinute,
            };
        }

        public RequestGateOptions Clone() => new RequestGateOptions
        {
            ThrottleLimit = ThrottleLimit,
            RequestsPerMinute = RequestsPerMinute,
            Burst = Burst,
        };

        internal void Validate()
        {
            if (ThrottleLimit < 1)
            {
                throw new SegmindValidationException("ThrottleLimit", "The throttle limit must be at least 1.");
            }

            if (RequestsPerMinute is double rpm && (double.IsNaN(rpm) || double.IsInfinity(rpm) || rpm < 0))
            {
                throw new SegmindValidationException("RequestsPerMinute", "Requests per minute must be a finite number, 0 or more (0 means unlimited).");
            }

            if (RequestsPerMinute is double positive && positive > 0 && positive < MinimumRequestsPerMinute)
            {
                throw new SegmindValidationException("RequestsPerMinute", "Requests per minute must be at least 1 (or 0 for unlimited).");
            }

            if (Burst is int burst && burst < 1)
            {
                throw new SegmindValidationException("Burst", "The burst must be at least 1.");
            }
        }

        /// <summary>The configured rate, or null when unlimited.</summary>
        internal double? LimitOrNull => RequestsPerMinute is double rpm && rpm > 0 ? rpm : (double?)null;

        internal int BurstFor(double requestsPerMinute)
        {
            if (Burst is int burst)
            {
                return burst;
            }

            return (int)Math.Max(1, Math.Min(5, Math.Round(requestsPerMinute / 10)));
        }

        public override string ToString() =>
            "ThrottleLimit=" + ThrottleLimit + ", RequestsPerMinute=" + (LimitOrNull?.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited");
    }
}

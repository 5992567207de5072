using System;
using System.Globalization;

namespace Segmind.Client
{
    /// <summary>A moment's view of a <see cref="RequestGate"/>, for Verbose lines and progress.</summary>
    public sealed class RequestGateStatus
    {
        public RequestGateStatus(int throttleLimit, int inFlight, int waiting, double? configuredRequestsPerMinute, double? effectiveRequestsPerMinute, DateTimeOffset? pausedUntil, long rateLimitedCount, long grantedCount)
        {
            ThrottleLimit = throttleLimit;
            InFlight = inFlight;
            Waiting = waiting;
            ConfiguredRequestsPerMinute = configuredRequestsPerMinute;
            EffectiveRequestsPerMinute = effectiveRequestsPerMinute;
            PausedUntil = pausedUntil;
            RateLimitedCount = rateLimitedCount;
            GrantedCount = grantedCount;
        }

        public int ThrottleLimit { get; }
        public int InFlight { get; }

        /// <summary>Requests queued at the gate, not yet started.</summary>
        public int Waiting { get; }

        /// <summary>The rate asked for; null means unlimited.</summary>
        public double? ConfiguredRequestsPerMinute { get; }

        /// <summary>The rate in force after 429 slow-downs and recoveries; null means unlimited.</summary>
        public double? EffectiveRequestsPerMinute { get; }

        /// <summary>Until when a 429 holds every request back; null when not paused.</summary>
        public DateTimeOffset? PausedUntil { get; }

        /// <summary>429s reported since the gate was created.</summary>
        public long RateLimitedCount { get; }

        /// <summary>Requests let through since the gate was created.</summary>
        public long GrantedCount { get; }

        public override string ToString()
        {
            var culture = CultureInfo.InvariantCulture;
            var text = string.Format(
                culture,
                "{0}/{1} in flight, {2} waiting, {3} requests/min (configured {4}), {5} rate-limited",
                InFlight,
                ThrottleLimit,
                Waiting,
                EffectiveRequestsPerMinute?.ToString("0.#", culture) ?? "unlimited",
                ConfiguredRequestsPerMinute?.ToString("0.#", culture) ?? "unlimited",
                RateLimitedCount);
            return PausedUntil is DateTimeOffset until
                ? text + ", paused until " + until.ToString("HH:mm:ss'Z'", culture)
                : text;
        }
    }
}

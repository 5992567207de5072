using System;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;

namespace Segmind.Client.Http
{
    /// <summary>How long a 429 (or 503) answer asks us to wait.</summary>
    internal static class RetryAfter
    {
        public const string ResetAtHeader = "x-rate-limit-reset-at-utc";

        /// <summary>
        /// The wait the server asks for, clamped to [0, <paramref name="max"/>]; null when it gave no usable hint.
        /// The reset-at timestamp wins over Retry-After because it is more precise than whole seconds.
        /// </summary>
        public static TimeSpan? FromHeaders(HttpResponseHeaders headers, DateTimeOffset now, TimeSpan max)
        {
            var resetAt = First(headers, ResetAtHeader);
            var retryAfter = First(headers, "Retry-After");
            return Parse(retryAfter, resetAt, now, max);
        }

        public static TimeSpan? Parse(string? retryAfter, string? resetAtUtc, DateTimeOffset now, TimeSpan max)
        {
            var fromReset = ParseResetAt(resetAtUtc, now);
            if (fromReset.HasValue)
            {
                return Clamp(fromReset.Value, max);
            }

            var fromRetryAfter = ParseRetryAfter(retryAfter, now);
            return fromRetryAfter.HasValue ? Clamp(fromRetryAfter.Value, max) : (TimeSpan?)null;
        }

        /// <summary>Retry-After as delta-seconds (fractions tolerated) or an HTTP-date.</summary>
        public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            var text = value!.Trim();
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                if (double.IsNaN(seconds) || double.IsInfinity(seconds))
                {
                    return null;
                }

                // Guard the conversion: a silly huge number must clamp, not overflow.
                seconds = Math.Max(0, Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2));
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
                || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date))
            {
                return date - now;
            }

            return null;
        }

        /// <summary>The ISO 8601 reset time, as a wait from <paramref name="now"/>.</summary>
        public static TimeSpan? ParseResetAt(string? value, DateTimeOffset now)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            var text = value!.Trim();
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                // Bare numbers are not timestamps this header is documented to carry.
                return null;
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var resetAt))
            {
                return resetAt - now;
            }

            return null;
        }

        private static TimeSpan Clamp(TimeSpan value, TimeSpan max)
        {
            if (value < TimeSpan.Zero)
            {
                return TimeSpan.Zero;
            }

            return value > max ? max : value;
        }

        private static string? First(HttpHeaders headers, string name) =>
            headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
    }
}

using System;
using System.Globalization;

namespace Segmind.WanAnimate.Output
{
    /// <summary>
    /// Times and durations as culture-free text. Export-Csv and ConvertTo-Json write a property with its own
    /// ToString(), which for DateTimeOffset depends on the culture (de-DE writes 01.12.2026, which en-US reads as
    /// 12 January) and for TimeSpan expands into fifteen JSON fields; ISO 8601 text round-trips everywhere.
    /// </summary>
    internal static class IsoTimestamp
    {
        private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

        public static string Of(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

        public static string? Of(DateTimeOffset? value) => value.HasValue ? Of(value.Value) : null;

        /// <summary>
        /// Reads ISO 8601 first, then text written by an older version in this culture, then the invariant culture.
        /// </summary>
        public static DateTimeOffset? Parse(string? text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            var trimmed = text!.Trim();
            if (DateTimeOffset.TryParseExact(trimmed, IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var iso))
            {
                return iso;
            }

            if (DateTimeOffset.TryParse(trimmed, CultureInfo.CurrentCulture, DateTimeStyles.AssumeUniversal, out var local))
            {
                return local;
            }

            return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var invariant)
                ? invariant
                : (DateTimeOffset?)null;
        }

        /// <summary>A duration as [d.]hh:mm:ss, whole seconds: what a person reads and [timespan] parses back.</summary>
        public static string DurationOf(TimeSpan value)
        {
            var rounded = TimeSpan.FromSeconds(Math.Round(value.TotalSeconds, MidpointRounding.AwayFromZero));
            return rounded.ToString("c", CultureInfo.InvariantCulture);
        }

        public static string? DurationBetween(DateTimeOffset? start, DateTimeOffset? end) =>
            start.HasValue && end.HasValue ? DurationOf(end.Value - start.Value) : null;

        private static readonly string[] IsoFormats =
        {
            "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
            "yyyy-MM-dd'T'HH:mm:ssK",
            "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
            "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
            "yyyy-MM-dd",
        };
    }
}

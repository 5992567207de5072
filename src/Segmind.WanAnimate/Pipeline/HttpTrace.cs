using System.Globalization;
using Segmind.Client;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// The text of -Debug (every HTTP exchange) and of -Verbose retry lines. The key travels only in the x-api-key
    /// header, which is shown redacted; nothing here ever holds it.
    /// </summary>
    internal static class HttpTrace
    {
        public static string Describe(HttpExchange exchange)
        {
            var answer = exchange.StatusCode.HasValue
                ? exchange.StatusCode.Value.ToString(CultureInfo.InvariantCulture) + (string.IsNullOrEmpty(exchange.Outcome) ? string.Empty : " " + exchange.Outcome)
                : exchange.Outcome ?? "no answer";
            return string.Format(
                CultureInfo.InvariantCulture,
                "HTTP {0} {1}{5} -> {2} in {3:0} ms, attempt {4}",
                exchange.Method,
                exchange.Uri.AbsoluteUri,
                answer,
                exchange.Elapsed.TotalMilliseconds,
                exchange.Attempt,
                exchange.CarriedKey ? " (x-api-key: [redacted])" : " (no key)");
        }

        public static string Describe(RetryNotice notice) => string.Format(
            CultureInfo.InvariantCulture,
            "Retrying {0} {1} in {2:0.0} s (attempt {3} failed): {4}",
            notice.Method,
            notice.Uri?.AbsoluteUri,
            notice.Delay.TotalSeconds,
            notice.FailedAttempt,
            notice.Reason);
    }
}

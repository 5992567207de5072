using System;
using System.Globalization;
using System.Net;

namespace Segmind.Client.Http
{
    /// <summary>Turns an unwanted HTTP answer into the one typed exception that says what it means.</summary>
    internal static class ErrorMapper
    {
        /// <summary>
        /// <paramref name="action"/> completes "Segmind refused the request to ...", e.g. "submit the job".
        /// <paramref name="serverMessage"/> must already be free of the key.
        /// </summary>
        public static SegmindException Map(int status, string? reason, string action, string? requestId, string? serverMessage, TimeSpan? retryAfter)
        {
            var label = Label(status, reason);
            var said = serverMessage is null ? string.Empty : ": " + TrimEndPeriod(serverMessage);
            switch (status)
            {
                case 400:
                case 422:
                    return new SegmindBadRequestException($"Segmind refused the request to {action} ({label}){said}.", status, requestId, serverMessage);
                case 401:
                    return new SegmindAuthenticationException($"Segmind rejected the API key while trying to {action} ({label}){said}; check -ApiKey or SEGMIND_API_KEY.", status, requestId, serverMessage);
                case 403:
                    return new SegmindPermissionException($"The API key is not allowed to {action} ({label}){said}.", status, requestId, serverMessage);
                case 404:
                    return requestId is null
                        ? new SegmindNotFoundException($"Segmind found nothing at the address used to {action} ({label}){said}.", status, null, serverMessage)
                        : new SegmindNotFoundException(
                            $"Segmind does not know job '{requestId}' ({label}){said}; the id is wrong or its result has expired, since results are kept for 1 hour after submission.",
                            status,
                            requestId,
                            serverMessage);
                case 405:
                    return new SegmindBadRequestException($"Segmind does not accept this method at the address used to {action} ({label}){said}.", status, requestId, serverMessage);
                case 406:
                    if (TalksAboutCredits(serverMessage))
                    {
                        return new SegmindInsufficientCreditsException($"The account has too few credits to {action} ({label}){said}.", status, requestId, serverMessage);
                    }

                    return new SegmindBadRequestException($"Segmind refused the content type of the request to {action} ({label}){said}.", status, requestId, serverMessage);
                case 410:
                    return new SegmindBadRequestException($"The model has been retired by Segmind, so it cannot {action} any more ({label}){said}.", status, requestId, serverMessage);
                case 429:
                    var wait = retryAfter.HasValue ? "; retry after " + Seconds(retryAfter.Value) : string.Empty;
                    return new SegmindRateLimitedException($"Segmind is rate limiting this account and did not {action} ({label}){said}{wait}.", retryAfter, status, requestId, serverMessage);
                case 408:
                    return new SegmindServerException($"Segmind timed out while trying to {action} ({label}){said}.", status, requestId, serverMessage);
            }

            if (status >= 500 && status <= 599)
            {
                return new SegmindServerException($"Segmind had a temporary problem and could not {action} ({label}){said}.", status, requestId, serverMessage);
            }

            return new SegmindProtocolException($"Segmind gave an unexpected answer when asked to {action} ({label}){said}.", status, requestId, serverMessage);
        }

        public static bool TalksAboutCredits(string? message) =>
            message != null
            && (message.IndexOf("credit", StringComparison.OrdinalIgnoreCase) >= 0
                || message.IndexOf("balance", StringComparison.OrdinalIgnoreCase) >= 0
                || message.IndexOf("insufficient funds", StringComparison.OrdinalIgnoreCase) >= 0);

        public static string Label(int status, string? reason)
        {
            var phrase = string.IsNullOrWhiteSpace(reason) ? DefaultReason(status) : reason!.Trim();
            return string.IsNullOrEmpty(phrase) ? "HTTP " + status.ToString(CultureInfo.InvariantCulture) : status.ToString(CultureInfo.InvariantCulture) + " " + phrase;
        }

        public static string Seconds(TimeSpan value) =>
            value.TotalSeconds < 10
                ? value.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s"
                : Math.Ceiling(value.TotalSeconds).ToString(CultureInfo.InvariantCulture) + " s";

        public static string TrimEndPeriod(string text)
        {
            var trimmed = text.TrimEnd();
            while (trimmed.EndsWith(".", StringComparison.Ordinal) && !trimmed.EndsWith("...", StringComparison.Ordinal))
            {
                trimmed = trimmed.Substring(0, trimmed.Length - 1).TrimEnd();
            }

            return trimmed;
        }

        private static string DefaultReason(int status)
        {
            switch (status)
            {
                case 422: return "Unprocessable Entity";
                case 429: return "Too Many Requests";
                default:
                    var name = ((HttpStatusCode)status).ToString();
                    return int.TryParse(name, out _) ? string.Empty : SplitWords(name);
            }
        }

        private static string SplitWords(string pascal)
        {
            var builder = new System.Text.StringBuilder(pascal.Length + 8);
            for (var i = 0; i < pascal.Length; i++)
            {
                if (i > 0 && char.IsUpper(pascal[i]))
                {
                    builder.Append(' ');
                }

                builder.Append(pascal[i]);
            }

            return builder.ToString();
        }
    }
}

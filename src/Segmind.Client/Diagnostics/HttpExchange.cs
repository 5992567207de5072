using System;

namespace Segmind.Client
{
    /// <summary>
    /// One HTTP exchange as the client saw it, for tracing (the module's -Debug): never carries the API key (the
    /// only place the key travels is the x-api-key header, which is not part of this record).
    /// </summary>
    public sealed class HttpExchange
    {
        public HttpExchange(string method, Uri uri, int attempt, int? statusCode, string? outcome, TimeSpan elapsed, bool carriedKey = true)
        {
            CarriedKey = carriedKey;
            Method = method;
            Uri = uri;
            Attempt = attempt;
            StatusCode = statusCode;
            Outcome = outcome;
            Elapsed = elapsed;
        }

        public string Method { get; }

        public Uri Uri { get; }

        /// <summary>1-based attempt of this request (retries of a GET count up).</summary>
        public int Attempt { get; }

        /// <summary>The HTTP status, or null when no answer arrived (see <see cref="Outcome"/>).</summary>
        public int? StatusCode { get; }

        /// <summary>The reason phrase, or why no answer arrived.</summary>
        public string? Outcome { get; }

        /// <summary>From sending the request (after the request budget let it go) to the answer's headers or the failure.</summary>
        public TimeSpan Elapsed { get; }

        /// <summary>Whether the request carried the x-api-key header: API calls do, output downloads never do.</summary>
        public bool CarriedKey { get; }
    }

    /// <summary>A retry about to happen, for tracing (the module's -Verbose): what failed and how long the client waits.</summary>
    public sealed class RetryNotice
    {
        public RetryNotice(string method, Uri? uri, int failedAttempt, TimeSpan delay, string reason)
        {
            Method = method;
            Uri = uri;
            FailedAttempt = failedAttempt;
            Delay = delay;
            Reason = reason;
        }

        public string Method { get; }

        public Uri? Uri { get; }

        public int FailedAttempt { get; }

        public TimeSpan Delay { get; }

        /// <summary>The error that caused the retry (a 429 names the server's wait hint when there was one).</summary>
        public string Reason { get; }
    }
}

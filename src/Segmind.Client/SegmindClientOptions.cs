using System;

namespace Segmind.Client
{
    /// <summary>How a <see cref="SegmindClient"/> reaches Segmind (or the local emulator) and how patient it is.</summary>
    public sealed class SegmindClientOptions
    {
        public const string BaseUriEnvironmentVariable = "SEGMIND_BASE_URL";

        /// <summary>Overrides the retention window when <see cref="Retention"/> is not set: seconds (<c>3600</c>) or a time span (<c>01:00:00</c>).</summary>
        public const string RetentionEnvironmentVariable = "SEGMIND_RETENTION";

        /// <summary>Segmind keeps a job's status and result for one hour after its submission.</summary>
        public static readonly TimeSpan DefaultRetention = TimeSpan.FromHours(1);
        public static readonly Uri DefaultBaseUri = new Uri("https://api.segmind.com/");
        public static readonly Uri DefaultUploadUri = new Uri("https://workflows-api.segmind.com/upload-asset");

        /// <summary>The API's base address; <c>/v2/wan-animate</c> and friends are resolved against it.</summary>
        public Uri BaseUri { get; set; } = DefaultBaseUri;

        /// <summary>The full address of the upload-asset endpoint. Null means <c>{BaseUri}/upload-asset</c> when BaseUri is loopback, else <see cref="DefaultUploadUri"/>.</summary>
        public Uri? UploadUri { get; set; }

        public ApiKey? ApiKey { get; set; }

        /// <summary>Bounded retries for requests that are safe to repeat.</summary>
        public RetryOptions Retry { get; set; } = new RetryOptions();

        /// <summary>The back-off between status polls.</summary>
        public PollSchedule PollSchedule { get; set; } = PollSchedule.Default;

        /// <summary>Per-request timeout for API calls (not for streamed downloads, which only time out when idle).</summary>
        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

        /// <summary>The blocking v1 run waits for the whole job (about 7 minutes on average), so it gets its own timeout.</summary>
        public TimeSpan SyncRunTimeout { get; set; } = TimeSpan.FromMinutes(30);

        /// <summary>Largest JSON/text body read into memory; larger answers are refused.</summary>
        public long MaxResponseBytes { get; set; } = 16L * 1024 * 1024;

        /// <summary>How long <see cref="SegmindClient.WaitAsync"/> waits when the caller gives no timeout; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> waits for ever.</summary>
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromHours(1);

        /// <summary>Largest local file the client uploads (upload-asset takes the file inline as base64).</summary>
        public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

        /// <summary>
        /// Shares the account's request budget (in-flight limit, requests a minute, 429 slow-down) across callers.
        /// Null means the process-wide gate for this key and base address.
        /// </summary>
        public IRequestGate? RequestGate { get; set; }

        /// <summary>
        /// The clock behind every delay, timeout, poll, token bucket, pause and back-off of this client. Null is the
        /// real clock; a <see cref="ScaledTimeProvider"/> matches an emulator run with a time scale, a fake clock makes
        /// tests deterministic. Clients with different clocks never share a request gate or a poller.
        /// </summary>
        public TimeProvider? TimeProvider { get; set; }

        /// <summary>
        /// How long Segmind keeps a job's status and result after submission, which the batch planner keeps every job
        /// inside (see <see cref="BatchPlanner"/>). Null: <c>SEGMIND_RETENTION</c>, else one hour.
        /// </summary>
        public TimeSpan? Retention { get; set; }

        /// <summary>The retention in force: <see cref="Retention"/>, else the environment variable, else one hour.</summary>
        public TimeSpan ResolveRetention()
        {
            if (Retention is TimeSpan given)
            {
                if (given <= TimeSpan.Zero)
                {
                    throw new SegmindValidationException("Retention", "The retention window must be positive.");
                }

                return given;
            }

            var text = Environment.GetEnvironmentVariable(RetentionEnvironmentVariable)?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                return DefaultRetention;
            }

            var culture = System.Globalization.CultureInfo.InvariantCulture;
            if (double.TryParse(text, System.Globalization.NumberStyles.Float, culture, out var seconds) && seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds / 2)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (TimeSpan.TryParse(text, culture, out var span) && span > TimeSpan.Zero)
            {
                return span;
            }

            throw new SegmindValidationException("Retention", "SEGMIND_RETENTION must be a positive number of seconds (3600) or a time span (01:00:00); it is '" + text + "'.");
        }

        /// <summary>
        /// The batch this client works for: a 401/403 stops every further request, a 406 (insufficient credits) every
        /// further submit (see <see cref="Segmind.Client.BatchStop"/>). Null: each request stands alone.
        /// </summary>
        public BatchStop? BatchStop { get; set; }

        /// <summary>
        /// Hosts besides <see cref="BaseUri"/>'s that job status and result addresses may name (each compared by
        /// scheme, host and port). Addresses on any other host are ignored: the key goes only to these hosts.
        /// </summary>
        public System.Collections.Generic.IList<Uri>? TrustedJobHosts { get; set; }

        /// <summary>Hears warnings about what the client did instead of what it was given; called on any thread, it must not block.</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Hears every HTTP exchange (method, address, attempt, status, elapsed); called on any thread, it must not block.</summary>
        public Action<HttpExchange>? Exchanged { get; set; }

        /// <summary>Hears every retry before its wait (what failed, how long the wait); called on any thread, it must not block.</summary>
        public Action<RetryNotice>? Retrying { get; set; }
    }

    public sealed class RetryOptions
    {
        /// <summary>Attempts in all, the first included.</summary>
        public int MaxAttempts { get; set; } = 6;
        public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);
        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>No retry starts once this much time has been spent on one call.</summary>
        public TimeSpan MaxTotal { get; set; } = TimeSpan.FromMinutes(3);
    }
}

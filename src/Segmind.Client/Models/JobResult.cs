using System;
using System.Collections.Generic;

namespace Segmind.Client
{
    public enum OutputKind
    {
        None,
        Url,
        Base64,
    }

    /// <summary>One answer of <c>GET /v2/requests/{id}</c>: the job's outcome. FAILED (HTTP 422) is data here.</summary>
    public sealed class JobResult
    {
        public JobResult(string requestId, string status, string? error, IReadOnlyDictionary<string, object?> metrics, string? output, DateTimeOffset retrievedAt)
        {
            RequestId = requestId;
            Status = status;
            Error = error;
            Metrics = metrics;
            Output = output;
            RetrievedAt = retrievedAt;
        }

        public string RequestId { get; }
        public string Status { get; }
        public string? Error { get; }
        public IReadOnlyDictionary<string, object?> Metrics { get; }

        /// <summary>A URL to the video, or base64 text when the job asked for base64.</summary>
        public string? Output { get; }
        public DateTimeOffset RetrievedAt { get; }

        /// <summary>
        /// True when the output is base64 text too large to hold in memory (the answer was over the JSON size cap):
        /// <see cref="Output"/> is then null, and saving the output fetches the result again and decodes it to disk as it arrives.
        /// </summary>
        public bool OutputHeldBack { get; internal set; }

        /// <summary>
        /// Whether the job asked for base64 (null: not known). An output that is not an address is saved as base64 only
        /// when this is not false, and only when it decodes to a video.
        /// </summary>
        public bool? Base64Requested { get; set; }

        /// <summary>
        /// Url for anything address-like (a scheme's colon or a file name's dot, which the base64 alphabet lacks), so an
        /// unusable address such as <c>file:</c> or a relative path is refused as an address, not misread as base64.
        /// </summary>
        public OutputKind OutputKind =>
            OutputHeldBack ? OutputKind.Base64
            : string.IsNullOrEmpty(Output) ? OutputKind.None
            : LooksLikeAddress(Output!) ? OutputKind.Url
            : OutputKind.Base64;

        private static bool LooksLikeAddress(string output)
        {
            // Only the start is inspected: base64 outputs are megabytes long.
            var head = output.Length > 512 ? output.Substring(0, 512) : output;
            return head.IndexOf(':') >= 0 || head.IndexOf('.') >= 0 || head.IndexOf('\\') >= 0;
        }

        /// <summary>Seconds of inference, from metrics (<c>inference_time</c>), when reported.</summary>
        public double? InferenceTime => MetricValues.Number(Metrics, "inference_time");

        /// <summary>Cost in credits, from metrics (<c>cost</c>), when reported.</summary>
        public double? Cost => MetricValues.Number(Metrics, "cost");

        public override string ToString() => RequestId;
    }
}

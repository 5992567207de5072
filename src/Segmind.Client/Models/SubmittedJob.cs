using System;

namespace Segmind.Client
{
    /// <summary>Segmind's answer to a v2 submit: the job exists and is paid for.</summary>
    public sealed class SubmittedJob
    {
        public SubmittedJob(string requestId, string status, Uri statusUrl, Uri responseUrl, Uri? pollUrl, DateTimeOffset submittedAt)
        {
            RequestId = requestId;
            Status = status;
            StatusUrl = statusUrl;
            ResponseUrl = responseUrl;
            PollUrl = pollUrl;
            SubmittedAt = submittedAt;
        }

        public string RequestId { get; }
        public string Status { get; }
        public Uri StatusUrl { get; }
        public Uri ResponseUrl { get; }
        public Uri? PollUrl { get; }
        public DateTimeOffset SubmittedAt { get; }

        public JobReference ToReference() => new JobReference(RequestId, StatusUrl, ResponseUrl);

        public override string ToString() => RequestId;
    }

    /// <summary>
    /// What is needed to follow a job: its id and, when the submit answer gave them, the absolute URLs to GET
    /// exactly as given. Without URLs the client builds <c>/v2/requests/{id}[/status]</c> from its base address.
    /// </summary>
    public sealed class JobReference
    {
        private readonly Uri? _statusUrl;
        private readonly Uri? _responseUrl;
        private readonly string? _statusUrlText;
        private readonly string? _responseUrlText;

        public JobReference(string requestId, Uri? statusUrl = null, Uri? responseUrl = null)
        {
            RequestId = CheckedId(requestId);
            _statusUrl = statusUrl;
            _responseUrl = responseUrl;
        }

        /// <summary>
        /// With the addresses kept as text, each already checked to be an absolute http(s) URL. A Uri that has been
        /// used for a request caches its parsed parts (several hundred bytes); a wait over many jobs keeps only the
        /// text and parses it again for each request.
        /// </summary>
        private JobReference(string requestId, string? statusUrlText, string? responseUrlText)
        {
            RequestId = CheckedId(requestId);
            _statusUrlText = statusUrlText;
            _responseUrlText = responseUrlText;
        }

        public string RequestId { get; }

        public Uri? StatusUrl => _statusUrl ?? (_statusUrlText is null ? null : new Uri(_statusUrlText, UriKind.Absolute));

        public Uri? ResponseUrl => _responseUrl ?? (_responseUrlText is null ? null : new Uri(_responseUrlText, UriKind.Absolute));

        /// <summary>
        /// A reference that keeps its addresses as text. Each address must be null or an absolute http(s) URL
        /// (surrounding blanks are dropped); anything else is refused here, so the properties never fail later.
        /// </summary>
        public static JobReference FromUrlText(string requestId, string? statusUrl, string? responseUrl) =>
            new JobReference(requestId, CheckedUrl(statusUrl, "StatusUrl"), CheckedUrl(responseUrl, "ResponseUrl"));

        public override string ToString() => RequestId;

        private static string CheckedId(string requestId)
        {
            if (string.IsNullOrWhiteSpace(requestId))
            {
                throw new SegmindValidationException("RequestId", "The request id is empty.");
            }

            return requestId.Trim();
        }

        private static string? CheckedUrl(string? text, string field)
        {
            if (text is null)
            {
                return null;
            }

            var trimmed = text.Trim();
            if (!Http.UriRules.TryParseHttp(trimmed, out _))
            {
                throw new SegmindValidationException(field, $"The {field} is not an absolute http or https address.");
            }

            return trimmed;
        }
    }
}

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
        public JobReference(string requestId, Uri? statusUrl = null, Uri? responseUrl = null)
        {
            if (string.IsNullOrWhiteSpace(requestId))
            {
                throw new SegmindValidationException("RequestId", "The request id is empty.");
            }

            RequestId = requestId.Trim();
            StatusUrl = statusUrl;
            ResponseUrl = responseUrl;
        }

        public string RequestId { get; }
        public Uri? StatusUrl { get; }
        public Uri? ResponseUrl { get; }

        public override string ToString() => RequestId;
    }
}

using System;
using System.Collections.Generic;

namespace Segmind.Client
{
    /// <summary>One answer of <c>GET /v2/requests/{id}/status</c>. FAILED is data here, not an exception.</summary>
    public sealed class JobStatus
    {
        public JobStatus(string requestId, string status, string? error, IReadOnlyDictionary<string, object?> metrics, DateTimeOffset checkedAt)
        {
            RequestId = requestId;
            Status = status;
            Error = error;
            Metrics = metrics;
            CheckedAt = checkedAt;
        }

        public string RequestId { get; }
        public string Status { get; }
        public string? Error { get; }

        /// <summary>Server metrics as plain .NET values (string, double, long, bool, nested dictionaries and lists).</summary>
        public IReadOnlyDictionary<string, object?> Metrics { get; }
        public DateTimeOffset CheckedAt { get; }

        public bool IsTerminal => JobState.IsTerminal(Status);

        public override string ToString() => RequestId + " " + Status;
    }
}

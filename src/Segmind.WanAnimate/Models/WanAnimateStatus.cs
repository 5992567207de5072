using System;

namespace Segmind.WanAnimate
{
    /// <summary>One status check of a job. FAILED is a status like any other here; <see cref="Error"/> says why.</summary>
    public sealed class WanAnimateStatus
    {
        public string RequestId { get; set; } = string.Empty;
        public string Status { get; set; } = string.Empty;
        public string? Error { get; set; }
        public MetricTable Metrics { get; set; } = new MetricTable();
        public DateTimeOffset CheckedAt { get; set; }

        public override string ToString() => RequestId;
    }
}

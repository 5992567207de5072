using System;
using System.Collections;

namespace Segmind.WanAnimate
{
    /// <summary>One status check of a job. FAILED is a status like any other here; <see cref="Error"/> says why.</summary>
    public sealed class WanAnimateStatus
    {
        public string RequestId { get; set; } = string.Empty;
        public string Status { get; set; } = string.Empty;
        public string? Error { get; set; }
        public Hashtable Metrics { get; set; } = new Hashtable();
        public DateTimeOffset CheckedAt { get; set; }

        public override string ToString() => RequestId;
    }
}

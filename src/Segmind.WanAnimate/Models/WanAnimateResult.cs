using System;
using System.Collections;

namespace Segmind.WanAnimate
{
    /// <summary>A finished job: its output (URL or base64 text), where it was saved, what it cost, and the inputs it came from.</summary>
    public sealed class WanAnimateResult
    {
        public string RequestId { get; set; } = string.Empty;
        public string Status { get; set; } = string.Empty;

        /// <summary>A URL to the video, or base64 text when the job asked for base64.</summary>
        public string? Output { get; set; }

        /// <summary>The saved video, once Save-WanAnimateOutput or Invoke-WanAnimate wrote it.</summary>
        public string? OutputFile { get; set; }

        /// <summary>Where the result can be fetched again (within the hour Segmind keeps it).</summary>
        public string? ResponseUrl { get; set; }

        public double? InferenceTime { get; set; }
        public double? Cost { get; set; }
        public Hashtable Metrics { get; set; } = new Hashtable();
        public DateTimeOffset? SubmittedAt { get; set; }
        public DateTimeOffset CompletedAt { get; set; }

        /// <summary>From submit to the moment completion was seen.</summary>
        public TimeSpan? Duration { get; set; }

        public string? InputVideo { get; set; }
        public string? ReferenceImage { get; set; }
        public string? Prompt { get; set; }
        public string? Mode { get; set; }
        public string? Resolution { get; set; }
        public long? Seed { get; set; }
        public string? RowId { get; set; }
        public int? Row { get; set; }

        public override string ToString() => RequestId;
    }
}

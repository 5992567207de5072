namespace Segmind.WanAnimate
{
    /// <summary>
    /// A finished job: its output (URL or base64 text), where it was saved, what it cost, and the inputs it came from.
    /// Times are ISO 8601 text (UTC) and every value is flat, so Export-Csv, ConvertTo-Json and Import-Csv keep them in
    /// any culture.
    /// </summary>
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

        /// <summary>Credits charged, from the server's metrics.</summary>
        public double? Cost { get; set; }

        /// <summary>Seconds of inference, from the server's metrics.</summary>
        public double? InferenceTime { get; set; }

        /// <summary>Seconds the job queued before inference started, from the server's metrics.</summary>
        public double? QueueTime { get; set; }

        /// <summary>Every metric the server reported; its text form (Export-Csv) is compact JSON.</summary>
        public MetricTable Metrics { get; set; } = new MetricTable();

        /// <summary>When the job was submitted (ISO 8601, UTC).</summary>
        public string? SubmittedAt { get; set; }

        /// <summary>When the job completed (ISO 8601, UTC): seen while waiting, or submit time plus the server's queue and inference times.</summary>
        public string? CompletedAt { get; set; }

        /// <summary>From submit to completion, as [d.]hh:mm:ss.</summary>
        public string? Duration { get; set; }

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

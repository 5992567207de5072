namespace Segmind.WanAnimate
{
    /// <summary>
    /// A submitted Wan Animate job: what Segmind answered and the inputs it was asked for. Every property is a
    /// plain settable value so an Export-Csv / Import-Csv round trip binds back into the cmdlets by name.
    /// </summary>
    public sealed class WanAnimateJob
    {
        public string RequestId { get; set; } = string.Empty;
        public string Status { get; set; } = string.Empty;
        public string? StatusUrl { get; set; }
        public string? ResponseUrl { get; set; }
        /// <summary>When Segmind accepted the job (ISO 8601, UTC: Export-Csv and Import-Csv keep it in any culture).</summary>
        public string SubmittedAt { get; set; } = string.Empty;
        public string InputVideo { get; set; } = string.Empty;
        public string ReferenceImage { get; set; } = string.Empty;
        public string Prompt { get; set; } = string.Empty;
        public string Mode { get; set; } = string.Empty;
        public string Resolution { get; set; } = string.Empty;
        public long Seed { get; set; }
        public bool Base64 { get; set; }

        /// <summary>The row's identity: its explicit Id, else a stable hash of its inputs.</summary>
        public string RowId { get; set; } = string.Empty;

        /// <summary>1-based position of the input in the pipeline that submitted it.</summary>
        public int? Row { get; set; }

        public override string ToString() => RequestId;
    }
}

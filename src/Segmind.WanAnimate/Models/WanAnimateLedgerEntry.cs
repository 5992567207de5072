namespace Segmind.WanAnimate
{
    /// <summary>
    /// One submit from the per-user ledger (Get-WanAnimateJob): the job Segmind accepted, the row and inputs it was
    /// submitted for, and the latest outcome this machine saw. Pipes into Wait-WanAnimateJob and Save-WanAnimateOutput
    /// by RequestId, StatusUrl and ResponseUrl.
    /// </summary>
    public sealed class WanAnimateLedgerEntry
    {
        /// <summary>Segmind's request id; empty for an "unknown" submit (sent, answer lost) unless its answer still showed one.</summary>
        public string RequestId { get; set; } = string.Empty;

        /// <summary>pending, completed, failed, saved or unknown.</summary>
        public string Status { get; set; } = string.Empty;

        /// <summary>When Segmind accepted the job (ISO 8601, UTC, as on jobs and results: Export-Csv keeps it in any culture).</summary>
        public string? SubmittedAt { get; set; }

        /// <summary>When the ledger recorded the submit (ISO 8601, UTC).</summary>
        public string RecordedAt { get; set; } = string.Empty;

        /// <summary>The row's identity: its explicit Id, else a stable hash of its inputs.</summary>
        public string RowId { get; set; } = string.Empty;

        /// <summary>1-based position of the row in the run that submitted it.</summary>
        public int? Row { get; set; }

        public string InputVideo { get; set; } = string.Empty;
        public string ReferenceImage { get; set; } = string.Empty;
        public string Prompt { get; set; } = string.Empty;
        public string Mode { get; set; } = string.Empty;
        public string Resolution { get; set; } = string.Empty;
        public long Seed { get; set; }
        public bool Base64 { get; set; }
        public string? StatusUrl { get; set; }
        public string? ResponseUrl { get; set; }

        /// <summary>Where the output was saved, when it was.</summary>
        public string? OutputFile { get; set; }

        /// <summary>Why the job failed, or why the submit's outcome is unknown.</summary>
        public string? Error { get; set; }

        /// <summary>The batch journal of the run that submitted it, if it had one.</summary>
        public string? JournalPath { get; set; }

        public override string ToString() => RequestId;
    }
}

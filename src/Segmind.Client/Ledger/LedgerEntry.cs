using System;

namespace Segmind.Client
{
    /// <summary>Where a ledger entry's job stands, as far as this machine has seen.</summary>
    public enum LedgerStatus
    {
        /// <summary>Accepted by Segmind; no outcome seen yet.</summary>
        Pending,
        Completed,
        Failed,

        /// <summary>The output was written to a file.</summary>
        Saved,

        /// <summary>Sent, and the answer was lost: a job may exist without a known request id.</summary>
        Unknown,

        /// <summary>
        /// Segmind answered 404 for an accepted job before its output was saved: its result expired (kept for an hour
        /// after submission), so there is nothing left to wait for or save.
        /// </summary>
        Expired,
    }

    /// <summary>One submit recorded in the per-user ledger, with the latest outcome seen for it.</summary>
    public sealed class LedgerEntry
    {
        internal LedgerEntry(DateTimeOffset recordedAt, string rowId)
        {
            RecordedAt = recordedAt;
            RowId = rowId;
        }

        /// <summary>Segmind's request id; for an <see cref="LedgerStatus.Unknown"/> submit, only when its answer still showed one.</summary>
        public string? RequestId { get; internal set; }

        public LedgerStatus Status { get; internal set; }

        /// <summary>When the submit was recorded (accepted, or found unknown).</summary>
        public DateTimeOffset RecordedAt { get; }

        public DateTimeOffset? SubmittedAt { get; internal set; }

        /// <summary>When the latest outcome was recorded.</summary>
        public DateTimeOffset? UpdatedAt { get; internal set; }

        public string RowId { get; }

        /// <summary>1-based position of the row in the run that submitted it.</summary>
        public int? Row { get; internal set; }

        /// <summary>The batch journal of that run, if it had one.</summary>
        public string? JournalPath { get; internal set; }

        public Uri? StatusUrl { get; internal set; }

        public Uri? ResponseUrl { get; internal set; }

        /// <summary>The inputs (URLs without their query strings, as in the journal).</summary>
        public WanAnimateRequest Inputs { get; internal set; } = new WanAnimateRequest();

        public string? Error { get; internal set; }

        public string? SavedPath { get; internal set; }

        public override string ToString() => (RequestId ?? "(unknown)") + " " + Status + " " + RowId;
    }
}

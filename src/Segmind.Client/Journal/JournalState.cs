using System;
using System.Collections.Generic;
using System.Globalization;

namespace Segmind.Client
{
    /// <summary>The record kinds of a batch journal, as written in each line's <c>kind</c> field.</summary>
    public static class JournalRecordKinds
    {
        /// <summary>
        /// A run took the row to submit it (owner, process id and start time, machine): no other run sends it while
        /// that owner lives. Written again after an attempt that provably did not reach the server (a 429).
        /// </summary>
        public const string Claimed = "claimed";

        /// <summary>Written and flushed right before the submit goes on the wire: row, input fingerprint, inputs (redacted).</summary>
        public const string Submitting = "submitting";

        /// <summary>The submit was answered: request id and URLs. Written before the job reaches the pipeline.</summary>
        public const string Submitted = "submitted";

        /// <summary>The submit was refused or failed before it was sent: no job exists, the row may be submitted again.</summary>
        public const string NotSubmitted = "not-submitted";

        /// <summary>The submit was sent and its answer lost: the job may exist and be charged. Never re-sent automatically.</summary>
        public const string Unknown = "unknown";

        /// <summary>The user checked an unknown row and found no job: the next run submits it again.</summary>
        public const string Released = "released";

        public const string Completed = "completed";
        public const string Failed = "failed";

        /// <summary>The output was written to a file: path and length.</summary>
        public const string Saved = "saved";
    }

    /// <summary>Where a row of a batch stands, from the journal's latest record about it.</summary>
    public enum JournalRowPhase
    {
        /// <summary>The outcome of a submit is unknown: the job may exist. Resolve it before submitting again (see <see cref="JournalRow.ResolutionHint"/>).</summary>
        Unknown,

        /// <summary>No job was created (refused, or failed before sending): submit again.</summary>
        NotSubmitted,

        /// <summary>An unknown submit was resolved as "no job exists": submit again.</summary>
        Released,

        /// <summary>A job exists: follow it by its request id; never submit again.</summary>
        Submitted,

        Completed,
        Failed,

        /// <summary>The output is on disk.</summary>
        Saved,

        /// <summary>
        /// A run has taken the row and is waiting to send it (see <see cref="JournalRow.Claim"/>). Nothing was sent: if
        /// the claim's owner is gone, the row may be submitted.
        /// </summary>
        Claimed,
    }

    /// <summary>One row's state, built from the journal's records (the latest wins). Immutable.</summary>
    public sealed class JournalRow
    {
        internal JournalRow(string rowId)
        {
            RowId = rowId;
        }

        private JournalRow(JournalRow other)
        {
            RowId = other.RowId;
            Phase = other.Phase;
            SubmitInterrupted = other.SubmitInterrupted;
            InputFingerprint = other.InputFingerprint;
            Inputs = other.Inputs;
            SubmittingAt = other.SubmittingAt;
            RequestId = other.RequestId;
            StatusUrl = other.StatusUrl;
            ResponseUrl = other.ResponseUrl;
            SubmittedAt = other.SubmittedAt;
            Output = other.Output;
            Error = other.Error;
            Metrics = other.Metrics;
            SavedPath = other.SavedPath;
            SavedLength = other.SavedLength;
            LastRecordAt = other.LastRecordAt;
            Claim = other.Claim;
        }

        /// <summary>The row's identity: its explicit Id, or <see cref="BatchJournal.RowIdentity"/> of its inputs. For a job followed without a row, its request id.</summary>
        public string RowId { get; }

        public JournalRowPhase Phase { get; private set; }

        /// <summary>
        /// True when the phase is <see cref="JournalRowPhase.Unknown"/> because a <c>submitting</c> record has no
        /// answer after it: the process stopped (killed, crashed) while the submit was in flight.
        /// </summary>
        public bool SubmitInterrupted { get; private set; }

        /// <summary><see cref="BatchJournal.InputFingerprint"/> of the inputs last submitted for this row.</summary>
        public string? InputFingerprint { get; private set; }

        /// <summary>The inputs last submitted for this row, as journaled (URLs without their queries), by their API names.</summary>
        public IReadOnlyDictionary<string, object?>? Inputs { get; private set; }

        /// <summary>When the last submit attempt started.</summary>
        public DateTimeOffset? SubmittingAt { get; private set; }

        public string? RequestId { get; private set; }
        public Uri? StatusUrl { get; private set; }
        public Uri? ResponseUrl { get; private set; }
        public DateTimeOffset? SubmittedAt { get; private set; }

        /// <summary>The output URL of a completed job (base64 outputs are not journaled: see <see cref="BatchJournal.RecordOutcome"/>).</summary>
        public string? Output { get; private set; }

        /// <summary>Why the job failed, the submit was refused, or its outcome is unknown.</summary>
        public string? Error { get; private set; }

        public IReadOnlyDictionary<string, object?>? Metrics { get; private set; }
        public string? SavedPath { get; private set; }
        public long? SavedLength { get; private set; }
        public DateTimeOffset? LastRecordAt { get; private set; }

        /// <summary>
        /// Who holds the row: while its phase is <see cref="JournalRowPhase.Claimed"/>, or while its submit is on the wire
        /// (<see cref="JournalRowPhase.Unknown"/> with <see cref="SubmitInterrupted"/>: interrupted only if that owner is gone).
        /// </summary>
        public RowClaim? Claim { get; private set; }

        /// <summary>
        /// True when the row has no job and may be submitted: refused, released, or claimed by an owner that is gone.
        /// (THE RESUBMIT RULE for journaled rows: a row whose submit may have gone on the wire never qualifies.)
        /// </summary>
        public bool MaySubmit => Phase == JournalRowPhase.NotSubmitted
            || Phase == JournalRowPhase.Released
            // Wall time: a claim's owner is judged by its process start time, which no batch clock knows.
            || (Phase == JournalRowPhase.Claimed && Claim?.IsHeldByLiveOwner(DateTimeOffset.UtcNow) != true);

        /// <summary>True when a job exists and has not ended yet: wait for it instead of submitting.</summary>
        public bool IsPending => Phase == JournalRowPhase.Submitted;

        /// <summary>The job to follow, when the row has one.</summary>
        public JobReference? ToJobReference() => RequestId is null ? null : new JobReference(RequestId, StatusUrl, ResponseUrl);

        /// <summary>
        /// For an <see cref="JournalRowPhase.Unknown"/> row: what happened and how to resolve it. Null otherwise.
        /// </summary>
        public string? ResolutionHint
        {
            get
            {
                if (Phase != JournalRowPhase.Unknown)
                {
                    return null;
                }

                var when = SubmittingAt?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "an unknown time";
                var what = SubmitInterrupted
                    ? "the run stopped while its submit (started " + when + ") was in flight"
                    : "its submit (started " + when + ") was sent but the answer was lost" + (string.IsNullOrWhiteSpace(Error) ? string.Empty : " (" + Error + ")");
                return "Row '" + RowId + "': " + what + ". The job may exist and be charged, so it is not sent again. "
                    + "Check the account's request history and credits at Segmind for a job started around that time. "
                    + "If it exists, attach its request id to the row; if it does not, release the row so the next run submits it.";
            }
        }

        public override string ToString() => RowId + " " + Phase + (RequestId is null ? string.Empty : " " + RequestId);

        internal JournalRow Claimed(RowClaim claim, DateTimeOffset? at) => new JournalRow(FreshAttempt(at))
        {
            Phase = JournalRowPhase.Claimed,
            Claim = claim,
        };

        internal JournalRow Submitting(string? fingerprint, DateTimeOffset? at, IReadOnlyDictionary<string, object?>? inputs = null) => new JournalRow(FreshAttempt(at))
        {
            Inputs = inputs ?? Inputs,

            // The claim stays: while its owner lives, the submit is still in flight rather than interrupted.
            Claim = Phase == JournalRowPhase.Claimed ? Claim : null,
            Phase = JournalRowPhase.Unknown,
            SubmitInterrupted = true,
            InputFingerprint = fingerprint ?? InputFingerprint,
            SubmittingAt = at,
        };

        internal JournalRow Submitted(string requestId, Uri? statusUrl, Uri? responseUrl, DateTimeOffset? submittedAt, DateTimeOffset? at) => new JournalRow(FreshAttempt(at))
        {
            Phase = JournalRowPhase.Submitted,
            RequestId = requestId,
            StatusUrl = statusUrl,
            ResponseUrl = responseUrl,
            SubmittedAt = submittedAt ?? at,
        };

        /// <summary>This row with everything a previous job or attempt left behind cleared: no claim, job, outcome or saved file.</summary>
        private JournalRow FreshAttempt(DateTimeOffset? at) => new JournalRow(this)
        {
            Claim = null,
            SubmitInterrupted = false,
            RequestId = null,
            StatusUrl = null,
            ResponseUrl = null,
            SubmittedAt = null,
            Output = null,
            Error = null,
            Metrics = null,
            SavedPath = null,
            SavedLength = null,
            LastRecordAt = at,
        };

        internal JournalRow WithoutJob(JournalRowPhase phase, string? error, DateTimeOffset? at) => new JournalRow(this)
        {
            Claim = null,
            Phase = phase,
            SubmitInterrupted = false,
            RequestId = phase == JournalRowPhase.Unknown ? RequestId : null,
            StatusUrl = phase == JournalRowPhase.Unknown ? StatusUrl : null,
            ResponseUrl = phase == JournalRowPhase.Unknown ? ResponseUrl : null,
            Error = error,
            LastRecordAt = at,
        };

        internal JournalRow Ended(JournalRowPhase phase, string requestId, string? output, string? error, IReadOnlyDictionary<string, object?>? metrics, DateTimeOffset? at) => new JournalRow(this)
        {
            Claim = null,
            Phase = phase,
            SubmitInterrupted = false,
            RequestId = requestId,
            Output = output ?? Output,
            Error = error,
            Metrics = metrics ?? Metrics,
            LastRecordAt = at,
        };

        internal JournalRow Saved(string requestId, string? path, long? length, DateTimeOffset? at) => new JournalRow(this)
        {
            Claim = null,
            Phase = JournalRowPhase.Saved,
            SubmitInterrupted = false,
            RequestId = requestId,
            SavedPath = path,
            SavedLength = length,
            LastRecordAt = at,
        };
    }

    /// <summary>What a batch journal says about every row: a snapshot, safe to keep and share.</summary>
    public sealed class JournalState
    {
        private readonly Dictionary<string, JournalRow> _rows;
        private readonly Dictionary<string, JournalRow> _byRequestId;

        internal JournalState(Dictionary<string, JournalRow> rows, Dictionary<string, JournalRow> byRequestId, long recordCount, long skippedLineCount)
        {
            _rows = rows;
            _byRequestId = byRequestId;
            RecordCount = recordCount;
            SkippedLineCount = skippedLineCount;
        }

        /// <summary>Every row by its identity (rows of jobs journaled without a row id are only found by request id).</summary>
        public IReadOnlyDictionary<string, JournalRow> Rows => _rows;

        /// <summary>Records understood.</summary>
        public long RecordCount { get; }

        /// <summary>Lines that were torn (a write cut short), not JSON, or of a kind this version does not know: ignored.</summary>
        public long SkippedLineCount { get; }

        public JournalRow? Find(string rowId) => rowId != null && _rows.TryGetValue(rowId, out var row) ? row : null;

        public JournalRow? FindByRequestId(string requestId) => requestId != null && _byRequestId.TryGetValue(requestId, out var row) ? row : null;

        /// <summary>Rows whose submit outcome is unknown: each needs the user's decision (see <see cref="JournalRow.ResolutionHint"/>).</summary>
        public IReadOnlyList<JournalRow> UnknownRows => RowsIn(JournalRowPhase.Unknown);

        /// <summary>Rows with a job that has not ended yet (to wait for on a re-run).</summary>
        public IReadOnlyList<JournalRow> PendingRows => RowsIn(JournalRowPhase.Submitted);

        private List<JournalRow> RowsIn(JournalRowPhase phase)
        {
            var list = new List<JournalRow>();
            foreach (var row in _rows.Values)
            {
                if (row.Phase == phase)
                {
                    list.Add(row);
                }
            }

            return list;
        }

        /// <summary>True when the row must not be submitted now: it has a job, or its last submit's outcome is unknown.</summary>
        public bool BlocksSubmit(string rowId)
        {
            var row = Find(rowId);
            return row != null && !row.MaySubmit;
        }
    }
}

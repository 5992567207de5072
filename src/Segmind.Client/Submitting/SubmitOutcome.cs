using System;
using System.Collections.Generic;

namespace Segmind.Client
{
    /// <summary>One input row to submit: its 1-based number in the run, its identity and the request.</summary>
    public sealed class SubmitRow
    {
        public SubmitRow(int row, string rowId, WanAnimateRequest request)
        {
            Row = row;
            RowId = string.IsNullOrWhiteSpace(rowId) ? throw new ArgumentException("The row id is empty.", nameof(rowId)) : rowId;
            Request = request ?? throw new ArgumentNullException(nameof(request));
        }

        public int Row { get; }

        public string RowId { get; }

        public WanAnimateRequest Request { get; }
    }

    /// <summary>How one submit ended.</summary>
    public enum SubmitOutcomeKind
    {
        /// <summary>Segmind accepted it: <see cref="SubmitOutcome.Job"/> is the (paid) job, already in the ledger and journal.</summary>
        Submitted,

        /// <summary>Certainly no job: refused, or it failed or was stopped before it went on the wire.</summary>
        NotSubmitted,

        /// <summary>It went on the wire and the answer was lost: the job may exist. Never re-sent automatically.</summary>
        Unknown,

        /// <summary>Stopped before it went on the wire: no job.</summary>
        Stopped,
    }

    /// <summary>The result of <see cref="JournaledSubmitter.SubmitAsync"/>.</summary>
    public sealed class SubmitOutcome
    {
        internal SubmitOutcome(SubmitOutcomeKind kind, SubmittedJob? job, Exception? error, IReadOnlyList<string> warnings, bool journalRefused)
        {
            Kind = kind;
            Job = job;
            Error = error;
            Warnings = warnings;
            JournalRefused = journalRefused;
        }

        public SubmitOutcomeKind Kind { get; }

        public SubmittedJob? Job { get; }

        /// <summary>Why there is no job (or why its outcome is unknown); null when submitted.</summary>
        public Exception? Error { get; }

        /// <summary>Records that could not be written after the fact (the outcome itself stands).</summary>
        public IReadOnlyList<string> Warnings { get; }

        /// <summary>Nothing was sent because the journal could not record the <c>submitting</c> step.</summary>
        public bool JournalRefused { get; }
    }

    /// <summary>What a run does with a row, given the journal (see <see cref="JournaledSubmitter.Plan"/>).</summary>
    public enum RowDecisionKind
    {
        /// <summary>The row is claimed for this run: submit it.</summary>
        Submit,

        /// <summary>A job exists for it: follow it, never submit again.</summary>
        Resume,

        /// <summary>An earlier submit's outcome is unknown: report it, do not send.</summary>
        Unknown,

        /// <summary>Another live run holds the row (see <see cref="JournalRow.Claim"/>): leave it to that run.</summary>
        HeldElsewhere,
    }

    public sealed class RowDecision
    {
        internal RowDecision(RowDecisionKind kind, JournalRow? row, bool released)
        {
            Kind = kind;
            Row = row;
            Released = released;
        }

        public RowDecisionKind Kind { get; }

        /// <summary>The journal's view of the row before this decision (null when it had none).</summary>
        public JournalRow? Row { get; }

        /// <summary>The row's unknown outcome was released (-ResubmitUnknown) before it was claimed.</summary>
        public bool Released { get; }
    }

    /// <summary>A moment's count of a submitter's rows, for progress.</summary>
    public sealed class SubmitProgress
    {
        internal SubmitProgress(int waiting, int sending, int submitted, int notSubmitted, int unknown)
        {
            Waiting = waiting;
            Sending = sending;
            Submitted = submitted;
            NotSubmitted = notSubmitted;
            Unknown = unknown;
        }

        /// <summary>Rows waiting for their turn, the request budget or their uploads.</summary>
        public int Waiting { get; }

        /// <summary>Rows whose POST is on the wire.</summary>
        public int Sending { get; }

        public int Submitted { get; }

        public int NotSubmitted { get; }

        public int Unknown { get; }
    }
}

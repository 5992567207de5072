using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// The one journaled submit operation: claims a row in the batch journal, waits for its turn (at most
    /// <c>throttleLimit</c> submits at once, then the account's pacing gate and the uploads), writes <c>submitting</c>
    /// right before the POST goes on the wire, and records the answer in the per-user ledger and then the journal
    /// before the job is handed on. A stop cancels only what has not been sent; <see cref="Settle"/> waits for the rest.
    /// </summary>
    /// <remarks>
    /// THE RECORDING RULE lives here: a claim before anything is sent, <c>submitting</c> at the last moment, an
    /// accepted request id in the ledger first, and every outcome in the journal. The sent rule is in
    /// <see cref="SubmitAttempt"/>, the retry rule in <see cref="SegmindClient"/> (one submit) and
    /// <see cref="JournalRow.MaySubmit"/> (across runs).
    /// </remarks>
    public sealed class JournaledSubmitter : IDisposable
    {
        private readonly SegmindClient _client;
        private readonly SubmitLedger? _ledger;
        private readonly SemaphoreSlim _throttle;
        private readonly RowClaim _owner = RowClaim.NewOwner();
        private readonly object _lock = new object();
        private readonly List<KeyValuePair<SubmitRow, SubmittedJob>> _accepted = new List<KeyValuePair<SubmitRow, SubmittedJob>>();
        private int _active;
        private int _onWire;
        private int _committed;
        private int _submitted;
        private int _notSubmitted;
        private int _unknown;
        private int _disposed;

        public JournaledSubmitter(SegmindClient client, BatchJournal? journal, SubmitLedger? ledger, int throttleLimit)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
            Journal = journal;
            if (journal != null && ReferenceEquals(journal.TimeProvider, TimeProvider.System))
            {
                // The journal's lock waits keep the batch's clock (scaled or a test's), unless it was given one of its own.
                journal.TimeProvider = client.Time;
            }

            _ledger = ledger;
            var limit = Math.Max(1, throttleLimit);
            _throttle = new SemaphoreSlim(limit, limit);
        }

        public BatchJournal? Journal { get; }

        public SubmitLedger? Ledger => _ledger;

        /// <summary>Every job accepted so far with its row, in the order the answers arrived.</summary>
        public IReadOnlyList<KeyValuePair<SubmitRow, SubmittedJob>> Accepted
        {
            get
            {
                lock (_lock)
                {
                    return _accepted.ToArray();
                }
            }
        }

        public SubmitProgress Progress
        {
            get
            {
                var onWire = Volatile.Read(ref _onWire);
                return new SubmitProgress(
                    Math.Max(0, Volatile.Read(ref _active) - onWire),
                    onWire,
                    Volatile.Read(ref _submitted),
                    Volatile.Read(ref _notSubmitted),
                    Volatile.Read(ref _unknown));
            }
        }

        /// <summary>
        /// Decides, under the journal lock, what to do with a row, and (when <paramref name="claim"/>) claims it when it
        /// is to be submitted. Without a journal every row is submitted. Throws IOException when the journal cannot be
        /// read or written. Call it with <paramref name="claim"/> false to ask before confirming with the user.
        /// </summary>
        public RowDecision Plan(string rowId, bool resubmitUnknown, bool claim = true)
        {
            var journal = Journal;
            if (journal == null)
            {
                return new RowDecision(RowDecisionKind.Submit, null, released: false);
            }

            if (!claim)
            {
                return Decide(journal.Find(rowId), resubmitUnknown);
            }

            return journal.Atomically(() =>
            {
                var row = journal.Find(rowId);
                var decision = Decide(row, resubmitUnknown);
                if (decision.Kind == RowDecisionKind.Submit)
                {
                    if (decision.Released)
                    {
                        journal.RecordReleased(rowId, "released by -ResubmitUnknown");
                    }

                    journal.RecordClaimed(rowId, _owner);
                }

                return decision;
            });
        }

        /// <summary>THE CLAIM RULE: a row is taken only when it may be submitted (see <see cref="JournalRow.MaySubmit"/>).</summary>
        private static RowDecision Decide(JournalRow? row, bool resubmitUnknown)
        {
            if (row == null || row.MaySubmit)
            {
                return new RowDecision(RowDecisionKind.Submit, row, released: false);
            }

            // A submit another live run has on the wire is that run's to finish, not unknown.
            // Wall time, as in JournalRow.MaySubmit: claims are judged by process start times.
            var heldByLiveOwner = row.Claim?.IsHeldByLiveOwner(DateTimeOffset.UtcNow) == true;
            switch (row.Phase)
            {
                case JournalRowPhase.Claimed:
                case JournalRowPhase.Unknown when row.SubmitInterrupted && heldByLiveOwner:
                    return new RowDecision(RowDecisionKind.HeldElsewhere, row, released: false);
                case JournalRowPhase.Unknown when resubmitUnknown:
                    return new RowDecision(RowDecisionKind.Submit, row, released: true);
                case JournalRowPhase.Unknown:
                    return new RowDecision(RowDecisionKind.Unknown, row, released: false);
                default:
                    return new RowDecision(RowDecisionKind.Resume, row, released: false);
            }
        }

        /// <summary>
        /// Submits a row (claimed by <see cref="Plan"/> when there is a journal). Never throws for the submit's own
        /// failures: they are in the outcome. <paramref name="stop"/> cancels the submit only while nothing is on the wire.
        /// </summary>
        public async Task<SubmitOutcome> SubmitAsync(SubmitRow row, CancellationToken stop)
        {
            if (row is null)
            {
                throw new ArgumentNullException(nameof(row));
            }

            Interlocked.Increment(ref _active);
            using (var attempt = new SubmitAttempt(this, row, stop))
            {
                try
                {
                    try
                    {
                        await _throttle.WaitAsync(attempt.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException error)
                    {
                        return NoJob(row, attempt, SubmitOutcomeKind.Stopped, error);
                    }

                    try
                    {
                        var job = await _client.SubmitAsync(row.Request, attempt, attempt.Token).ConfigureAwait(false);
                        return OnAccepted(row, attempt, job);
                    }
                    catch (Exception error) when (!(error is OutOfMemoryException))
                    {
                        var kind = attempt.Classify(error);
                        return kind == SubmitOutcomeKind.Unknown ? OutcomeUnknown(row, attempt, error) : NoJob(row, attempt, kind, error);
                    }
                    finally
                    {
                        _throttle.Release();
                    }
                }
                finally
                {
                    attempt.ReleaseCommit();
                    Interlocked.Decrement(ref _active);
                }
            }
        }

        /// <summary>
        /// Blocks until every submit that went on the wire has its answer recorded, or <paramref name="bound"/> passes.
        /// Call it after a stop, before ending the run. False when some are still out.
        /// </summary>
        public bool Settle(TimeSpan bound)
        {
            // The bound runs on the client's clock, like the request timeout it is derived from.
            var timedOut = false;
            using (var timer = new ClockTimer(_client.Time, () =>
            {
                lock (_lock)
                {
                    timedOut = true;
                    Monitor.PulseAll(_lock);
                }
            }))
            {
                lock (_lock)
                {
                    if (_committed > 0 && bound != Timeout.InfiniteTimeSpan)
                    {
                        timer.Schedule(bound);
                    }

                    while (_committed > 0)
                    {
                        if (timedOut)
                        {
                            return false;
                        }

                        Monitor.Wait(_lock);
                    }
                }
            }

            return true;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            // Claims this run never resolved (it ended before sending them) become void for every other run.
            RowClaim.EndOwner(_owner);
        }

        internal void EnterCommitted()
        {
            lock (_lock)
            {
                _committed++;
            }
        }

        internal void LeaveCommitted()
        {
            lock (_lock)
            {
                _committed--;
                Monitor.PulseAll(_lock);
            }
        }

        internal void EnterWire() => Interlocked.Increment(ref _onWire);

        internal void LeaveWire() => Interlocked.Decrement(ref _onWire);

        /// <summary>An attempt provably did not reach Segmind: the row is claimed again, no longer "submitting".</summary>
        internal void TakeBack(SubmitRow row, List<string> warnings)
        {
            var journal = Journal;
            if (journal == null)
            {
                return;
            }

            Record(warnings, () => journal.RecordClaimed(row.RowId, _owner), "row " + row.RowId + " was not sent (it is retried)");
        }

        private SubmitOutcome OnAccepted(SubmitRow row, SubmitAttempt attempt, SubmittedJob job)
        {
            // The ledger first: it is the record kept whatever else fails.
            var journalPath = Journal?.Path;
            if (_ledger != null)
            {
                Record(attempt.Warnings, () => _ledger.RecordAccepted(row.RowId, row.Row, row.Request, job, journalPath), "the ledger that row " + row.RowId + " was submitted as " + job.RequestId);
            }

            if (Journal != null)
            {
                Record(
                    attempt.Warnings,
                    () => Journal.RecordSubmitted(row.RowId, job),
                    "the journal that row " + row.RowId + " was submitted as " + job.RequestId + " (attach that request id if the next run reports the row as unknown)");
            }

            lock (_lock)
            {
                _accepted.Add(new KeyValuePair<SubmitRow, SubmittedJob>(row, job));
            }

            Interlocked.Increment(ref _submitted);
            return new SubmitOutcome(SubmitOutcomeKind.Submitted, job, null, attempt.Warnings, journalRefused: false);
        }

        private SubmitOutcome OutcomeUnknown(SubmitRow row, SubmitAttempt attempt, Exception error)
        {
            if (_ledger != null)
            {
                Record(attempt.Warnings, () => _ledger.RecordUnknown(row.RowId, row.Row, row.Request, error.Message, Journal?.Path, (error as SegmindException)?.RequestId), "the ledger that row " + row.RowId + "'s submit outcome is unknown");
            }

            if (Journal != null)
            {
                Record(attempt.Warnings, () => Journal.RecordUnknown(row.RowId, error.Message), "the journal that row " + row.RowId + "'s submit outcome is unknown");
            }

            Interlocked.Increment(ref _unknown);
            var unknown = error as SegmindSubmitOutcomeUnknownException
                ?? new SegmindSubmitOutcomeUnknownException(
                    "The job may have been submitted (" + error.Message.TrimEnd('.') + "); it is not re-sent automatically because every submit creates a new paid job, so check the credit balance or the Segmind dashboard before submitting it again.",
                    inner: error);
            return new SubmitOutcome(SubmitOutcomeKind.Unknown, null, unknown, attempt.Warnings, journalRefused: false);
        }

        private SubmitOutcome NoJob(SubmitRow row, SubmitAttempt attempt, SubmitOutcomeKind kind, Exception error)
        {
            var journal = Journal;
            if (journal != null && attempt.JournalRefusal == null)
            {
                // Releases this run's claim: the row may be submitted again, by this run's successor or another.
                var errorId = kind == SubmitOutcomeKind.Stopped ? "Stopped" : (error as SegmindException)?.ErrorId ?? error.GetType().Name;
                var message = kind == SubmitOutcomeKind.Stopped ? "Stopped before the submit was sent." : error.Message;
                Record(attempt.Warnings, () => journal.RecordNotSubmitted(row.RowId, errorId, message), "the journal that row " + row.RowId + " was not submitted");
            }

            if (kind != SubmitOutcomeKind.Stopped)
            {
                Interlocked.Increment(ref _notSubmitted);
            }

            return new SubmitOutcome(kind, null, error, attempt.Warnings, journalRefused: attempt.JournalRefusal != null);
        }

        private static void Record(List<string> warnings, Action record, string what)
        {
            try
            {
                record();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is ObjectDisposedException || ex is SegmindJournalException)
            {
                warnings.Add("Could not write to " + what + ": " + ex.Message);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace Segmind.Client
{
    /// <summary>
    /// One row's submit as it moves through its stages: <b>waiting</b> (its turn, the pacing gate, uploads, retry
    /// delays) → <b>sending</b> (the POST is on the wire) → <b>answered</b>. A stop cancels it only while it waits; a
    /// POST on the wire is left to be answered (bounded by the request timeout) so its request id is recorded.
    /// </summary>
    /// <remarks>THE SENT RULE lives here (<see cref="Classify"/>): only a POST that went on the wire can leave a row unknown.</remarks>
    internal sealed class SubmitAttempt : ISubmitStages, IDisposable
    {
        private enum Stage
        {
            Waiting,
            Sending,
            AnswerPending,
            NotSent,
        }

        private readonly object _lock = new object();
        private readonly CancellationTokenSource _source = new CancellationTokenSource();
        private readonly CancellationTokenRegistration _registration;
        private readonly JournaledSubmitter _owner;
        private readonly SubmitRow _row;
        private Stage _stage = Stage.Waiting;
        private bool _stopRequested;
        private bool _holdsCommit;

        public SubmitAttempt(JournaledSubmitter owner, SubmitRow row, CancellationToken stop)
        {
            _owner = owner;
            _row = row;
            _registration = stop.Register(state => ((SubmitAttempt)state!).OnStop(), this);
        }

        /// <summary>Cancelled by a stop, but only while no POST is on the wire.</summary>
        public CancellationToken Token => _source.Token;

        /// <summary>Why nothing was sent: the journal refused the <c>submitting</c> record.</summary>
        public Exception? JournalRefusal { get; private set; }

        /// <summary>Records that could not be written along the way.</summary>
        public List<string> Warnings { get; } = new List<string>();

        public bool StopRequested
        {
            get
            {
                lock (_lock)
                {
                    return _stopRequested;
                }
            }
        }

        public IDisposable? BeginSending()
        {
            lock (_lock)
            {
                if (_stopRequested)
                {
                    throw new OperationCanceledException("Stopped before the submit was sent.", _source.Token);
                }

                _stage = Stage.Sending;

                // Counted before the stop check is let go: a stop from here on waits for this submit's answer.
                if (!_holdsCommit)
                {
                    _holdsCommit = true;
                    _owner.EnterCommitted();
                }
            }

            // From the journal's point of view the POST leaves now: a kill from here on leaves the row unknown.
            try
            {
                _owner.Journal?.RecordSubmitting(_row.RowId, _row.Request);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is ObjectDisposedException || ex is SegmindJournalException)
            {
                JournalRefusal = ex;
                EndSending(Stage.Waiting);
                ReleaseCommit();
                throw;
            }

            _owner.EnterWire();
            return new Sending(this);
        }

        public void NotSent(SegmindException reason)
        {
            lock (_lock)
            {
                _stage = Stage.NotSent;
            }

            // Back to waiting: the row is this run's again, so a kill during the retry delay leaves it free, not unknown.
            _owner.TakeBack(_row, Warnings);
            ReleaseCommit();
        }

        /// <summary>
        /// How a submit that threw ended. Before the POST went on the wire (or when the last attempt provably did not
        /// reach the server) there is certainly no job; after it, only a refusal Segmind answered (a 4xx other than 408)
        /// proves there is none: anything else may have created the job.
        /// </summary>
        public SubmitOutcomeKind Classify(Exception error)
        {
            Stage stage;
            lock (_lock)
            {
                stage = _stage;
            }

            if (stage == Stage.Waiting || stage == Stage.NotSent)
            {
                return error is OperationCanceledException && StopRequested ? SubmitOutcomeKind.Stopped : SubmitOutcomeKind.NotSubmitted;
            }

            if (error is SegmindSubmitOutcomeUnknownException)
            {
                return SubmitOutcomeKind.Unknown;
            }

            return error is SegmindException refused && refused.StatusCode is int status && status >= 400 && status < 500 && status != 408
                ? SubmitOutcomeKind.NotSubmitted
                : SubmitOutcomeKind.Unknown;
        }

        /// <summary>The outcome is recorded: a stop no longer waits for this row.</summary>
        public void ReleaseCommit()
        {
            if (_holdsCommit)
            {
                _holdsCommit = false;
                _owner.LeaveCommitted();
            }
        }

        public void Dispose()
        {
            ReleaseCommit();
            _registration.Dispose();
            _source.Dispose();
        }

        private void EndSending(Stage next)
        {
            bool cancel;
            lock (_lock)
            {
                _stage = next;
                cancel = _stopRequested;
            }

            if (cancel)
            {
                Cancel();
            }
        }

        private void OnStop()
        {
            bool cancel;
            lock (_lock)
            {
                _stopRequested = true;
                cancel = _stage != Stage.Sending;
            }

            if (cancel)
            {
                Cancel();
            }
        }

        private void Cancel()
        {
            try
            {
                _source.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private sealed class Sending : IDisposable
        {
            private SubmitAttempt? _attempt;

            public Sending(SubmitAttempt attempt)
            {
                _attempt = attempt;
            }

            public void Dispose()
            {
                var attempt = Interlocked.Exchange(ref _attempt, null);
                if (attempt == null)
                {
                    return;
                }

                attempt._owner.LeaveWire();
                attempt.EndSending(Stage.AnswerPending);
            }
        }
    }
}

using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>Waits for one job through the core, keeping the aggregate progress bar and the error records consistent.</summary>
    internal static class JobWaiter
    {
        /// <summary>
        /// The COMPLETED result, or null after an error was written (FAILED, timeout, not found...). With a journal,
        /// records how the job ended (<paramref name="rowId"/> may be null: the journal finds the row by request id).
        /// </summary>
        public static async Task<JobResult?> WaitAsync(
            SegmindClient client,
            JobReference reference,
            TimeSpan timeout,
            WaitProgress progress,
            object target,
            int? row,
            IOperationSink sink,
            CancellationToken cancellation,
            BatchJournal? journal = null,
            string? rowId = null)
        {
            progress.Added(sink);
            try
            {
                var result = await client.WaitAsync(reference, timeout, progress.ObserverFor(sink), cancellation).ConfigureAwait(false);
                progress.Completed(sink);
                LedgerAccess.RecordOutcome(sink, result.RequestId, completed: true, error: null);
                if (journal != null)
                {
                    RecordCompleted(sink, journal, rowId, result);
                }

                return result;
            }
            catch (SegmindJobFailedException ex)
            {
                progress.Failed(sink);
                LedgerAccess.RecordOutcome(sink, reference.RequestId, completed: false, error: ex.ServerMessage ?? ex.Message);
                if (journal != null)
                {
                    RecordFailed(sink, journal, rowId, reference.RequestId, ex);
                }

                sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, target, row));
            }
            catch (SegmindNotFoundException ex)
            {
                // Unknown or expired at Segmind: nothing is left to wait for, so the ledger stops listing it as pending.
                progress.EndedOtherwise(sink);
                LedgerAccess.RecordExpired(sink, reference.RequestId);
                sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, target, row));
            }
            catch (SegmindException ex)
            {
                progress.EndedOtherwise(sink);
                sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, target, row));
            }

            return null;
        }

        // Outside WaitAsync: a lambda there would make every wait allocate and keep its captured variables, journal or not.
        private static void RecordCompleted(IOperationSink sink, BatchJournal journal, string? rowId, JobResult result) =>
            JournalAccess.RecordAfter(sink, () => journal.RecordOutcome(rowId, result), "job " + result.RequestId + " completed");

        private static void RecordFailed(IOperationSink sink, BatchJournal journal, string? rowId, string requestId, SegmindJobFailedException ex) =>
            JournalAccess.RecordAfter(sink, () => journal.RecordFailed(rowId, requestId, ex.ServerMessage ?? ex.Message, null), "job " + requestId + " FAILED");
    }

    /// <summary>Called by the core after each poll; deliberately not Progress&lt;T&gt;, which would post to a synchronization context.</summary>
    internal sealed class PollObserver : IProgress<JobStatus>
    {
        private readonly WaitProgress _progress;
        private readonly IOperationSink _sink;

        public PollObserver(WaitProgress progress, IOperationSink sink)
        {
            _progress = progress;
            _sink = sink;
        }

        public IOperationSink Sink => _sink;

        public void Report(JobStatus value)
        {
            _progress.Polled(_sink);
            if (_sink.VerboseWanted)
            {
                // Once this batch has completed jobs, a job's first poll is planned for when it can have ended, so it
                // may find it done at once: every poll is told, not only those that lead to more waiting.
                _sink.WriteVerbose(Segmind.Client.JobState.IsTerminal(value.Status)
                    ? "Job " + value.RequestId + " is " + value.Status + "."
                    : "Job " + value.RequestId + " is " + value.Status + "; waiting.");
            }
        }
    }

    /// <summary>-Timeout and -PollInterval, shared by Wait-WanAnimateJob and Invoke-WanAnimate.</summary>
    internal static class WaitParameters
    {
        public static void Validate(PSCmdlet cmdlet, TimeSpan timeout, TimeSpan? pollInterval)
        {
            if (timeout <= TimeSpan.Zero)
            {
                cmdlet.ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("Timeout", "-Timeout must be positive, e.g. 3600 (seconds) or '01:00:00'.", timeout));
            }

            if (pollInterval.HasValue && pollInterval.Value <= TimeSpan.Zero)
            {
                cmdlet.ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("PollInterval", "-PollInterval must be positive, e.g. 10 (seconds) or '00:00:10'.", pollInterval));
            }
        }

        public static void Apply(SegmindClientOptions options, TimeSpan? pollInterval)
        {
            if (pollInterval.HasValue)
            {
                options.PollSchedule = PollSchedule.Fixed(pollInterval.Value);
            }
        }
    }
}

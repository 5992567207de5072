using System;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Segmind.Client;

namespace Segmind.WanAnimate.Errors
{
    /// <summary>
    /// Maps the core's <see cref="BatchStop"/> for one cmdlet invocation: the rows refused or held back by a
    /// batch-fatal answer get no error of their own (a wrong key on 1,000 rows is one problem, not 1,000), and the
    /// cmdlet reports it once: a 401/403 as a terminating error, a 406 as one error with the credit figures after
    /// every job already accepted has been collected.
    /// </summary>
    internal sealed class BatchStopReporter
    {
        private int _rowsHeld;
        private object? _firstTarget;

        public BatchStop Stop { get; } = new BatchStop();

        /// <summary>Rows whose error was folded into the batch's one error.</summary>
        public int RowsHeld => Volatile.Read(ref _rowsHeld);

        /// <summary>True when this error belongs to the batch's stop and must not be written on its own.</summary>
        public bool Absorbs(ErrorRecord record)
        {
            var error = record?.Exception;
            var absorbed = error is SegmindBatchStoppedException
                || (Stop.Fatal != null && (error is SegmindAuthenticationException || error is SegmindPermissionException))
                || (Stop.Credits != null && error is SegmindInsufficientCreditsException);
            if (absorbed)
            {
                Interlocked.Increment(ref _rowsHeld);
                Interlocked.CompareExchange(ref _firstTarget, record!.TargetObject, null);
            }

            return absorbed;
        }

        /// <summary>The terminating error for a 401/403 stop, or null while the batch goes on.</summary>
        public ErrorRecord? FatalRecord()
        {
            if (!(Stop.Fatal is SegmindException fatal))
            {
                return null;
            }

            var record = ErrorRecordFactory.ToErrorRecord(fatal, Volatile.Read(ref _firstTarget));
            record.ErrorDetails = new ErrorDetails(string.Format(
                CultureInfo.InvariantCulture,
                "{0} The batch stopped: nothing further was sent ({1} row(s) not submitted or not checked).",
                fatal.Message,
                Math.Max(1, RowsHeld)))
            {
                RecommendedAction = "Check the API key (-ApiKey or SEGMIND_API_KEY) and its permissions, then run the batch again; rows that were not submitted are submitted then.",
            };
            return record;
        }

        /// <summary>The one error for a 406 stop, with the balance read after the batch (null when it could not be read).</summary>
        public ErrorRecord? CreditsRecord(CreditBalance? balance)
        {
            if (!(Stop.Credits is SegmindInsufficientCreditsException credits))
            {
                return null;
            }

            var figures = balance is null
                ? string.Empty
                : string.Format(CultureInfo.InvariantCulture, " The balance is now {0:0.####} credits ({1:0.####} free).", balance.Credits, balance.FreeCredits);
            var record = ErrorRecordFactory.ToErrorRecord(credits, Volatile.Read(ref _firstTarget));
            record.ErrorDetails = new ErrorDetails(string.Format(
                CultureInfo.InvariantCulture,
                "{0}{1} Submitting stopped at the first refusal: {2} row(s) were not submitted; every job already accepted was still collected.",
                credits.Message,
                figures,
                Math.Max(1, RowsHeld)))
            {
                RecommendedAction = "Add credits to the Segmind account, then run the batch again (with -JournalPath only the rows not submitted are sent).",
            };
            return record;
        }
    }
}

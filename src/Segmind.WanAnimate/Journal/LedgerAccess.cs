using System;
using System.IO;
using Segmind.Client;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Journal
{
    /// <summary>
    /// Outcomes written to the per-user ledger after the fact (a job completed, failed or was saved), so
    /// Get-WanAnimateJob -Status can tell them apart; an expired job (404) too. Best effort: the job itself is not affected by a refused write.
    /// </summary>
    internal static class LedgerAccess
    {
        public static void RecordOutcome(IOperationSink sink, string requestId, bool completed, string? error) =>
            Write(sink, ledger => ledger.RecordOutcome(requestId, completed, error), requestId);

        public static void RecordSaved(IOperationSink sink, string requestId, string path) =>
            Write(sink, ledger => ledger.RecordSaved(requestId, path), requestId);

        /// <summary>Segmind answered 404 for the job: shown as expired in Get-WanAnimateJob (ignored for an id the ledger never had).</summary>
        public static void RecordExpired(IOperationSink sink, string requestId) =>
            Write(sink, ledger => ledger.RecordExpired(requestId), requestId);

        private static void Write(IOperationSink sink, Action<SubmitLedger> record, string requestId)
        {
            if (string.IsNullOrEmpty(requestId))
            {
                return;
            }

            try
            {
                var ledger = SubmitLedger.OpenDefault();
                if (ledger != null)
                {
                    record(ledger);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is ArgumentException || ex is NotSupportedException)
            {
                if (sink.VerboseWanted)
                {
                    sink.WriteVerbose("Could not record job " + requestId + "'s outcome in the ledger: " + ex.Message);
                }
            }
        }
    }
}

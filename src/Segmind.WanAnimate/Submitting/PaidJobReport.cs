using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Segmind.Client;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>
    /// Knows which accepted (paid) jobs have reached the pipeline. When a run ends early, every other accepted job is
    /// named in a warning with the command that picks it up, so none is lost even when nothing more can be written.
    /// </summary>
    internal sealed class PaidJobReport
    {
        private readonly ConcurrentDictionary<string, byte> _delivered = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        /// <summary>The job (or what the run made of it) reached the pipeline.</summary>
        public void Delivered(string requestId) => _delivered[requestId] = 0;

        /// <summary>Returns the callback that marks <paramref name="requestId"/> delivered.</summary>
        public Action WhenWritten(string requestId) => () => Delivered(requestId);

        /// <summary>Warnings for every accepted job that did not reach the pipeline; <paramref name="journalPath"/> when the run had a journal.</summary>
        public IReadOnlyList<string> Undelivered(IEnumerable<KeyValuePair<SubmitRow, SubmittedJob>> accepted, string? journalPath)
        {
            var warnings = new List<string>();
            foreach (var pair in accepted.Where(p => !_delivered.ContainsKey(p.Value.RequestId)).OrderBy(p => p.Key.Row))
            {
                var job = pair.Value;
                var resume = journalPath != null
                    ? string.Format(CultureInfo.InvariantCulture, "run the batch again with -JournalPath '{0}', or 'Wait-WanAnimateJob -RequestId {1}'", journalPath, job.RequestId)
                    : string.Format(CultureInfo.InvariantCulture, "'Wait-WanAnimateJob -RequestId {0}' (or 'Get-WanAnimateJob -Status pending | Wait-WanAnimateJob')", job.RequestId);
                warnings.Add(string.Format(
                    CultureInfo.InvariantCulture,
                    "Row {0} ({1}) was submitted and charged as job {2}, but the run ended before its result was written. It is in the ledger; to pick it up: {3}.",
                    pair.Key.Row,
                    pair.Key.RowId,
                    job.RequestId,
                    resume));
            }

            return warnings;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Segmind.Client;
using Segmind.WanAnimate.Output;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>
    /// The row a job was submitted for, as this machine recorded it: the batch journal given to the command first, else
    /// the per-user ledger. Save-WanAnimateOutput given only a request id takes the RowId (for -FileName '{RowId}.mp4',
    /// the result and the journal's saved record), the row number, the submit time and the inputs from here.
    /// Best effort: a record that cannot be read leaves the input as it was given.
    /// </summary>
    internal sealed class RecordedRows
    {
        private readonly BatchJournal? _journal;
        private readonly object _lock = new object();
        private JournalState? _journalState;
        private bool _journalRead;
        private Dictionary<string, LedgerEntry>? _ledger;
        private long _ledgerLength = -1;

        public RecordedRows(BatchJournal? journal)
        {
            _journal = journal;
        }

        /// <summary>What the journal, else the ledger, recorded for <paramref name="requestId"/>; null when neither knows it.</summary>
        public JobInputs? Find(string requestId)
        {
            lock (_lock)
            {
                return FromJournal(requestId) ?? FromLedger(requestId);
            }
        }

        /// <summary><paramref name="given"/> with each value it lacks taken from <paramref name="recorded"/>.</summary>
        public static JobInputs? Fill(JobInputs? given, JobInputs? recorded)
        {
            if (recorded == null)
            {
                return given;
            }

            if (given == null)
            {
                return recorded;
            }

            return new JobInputs
            {
                SubmittedAt = given.SubmittedAt ?? recorded.SubmittedAt,
                CompletedAt = given.CompletedAt ?? recorded.CompletedAt,
                InputVideo = given.InputVideo ?? recorded.InputVideo,
                ReferenceImage = given.ReferenceImage ?? recorded.ReferenceImage,
                Prompt = given.Prompt ?? recorded.Prompt,
                Mode = given.Mode ?? recorded.Mode,
                Resolution = given.Resolution ?? recorded.Resolution,
                Seed = given.Seed ?? recorded.Seed,
                RowId = given.RowId ?? recorded.RowId,
                Row = given.Row ?? recorded.Row,
            };
        }

        private JobInputs? FromJournal(string requestId)
        {
            if (_journal == null)
            {
                return null;
            }

            if (!_journalRead)
            {
                _journalRead = true;
                try
                {
                    _journalState = _journal.ReadState();
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SegmindJournalException || ex is TimeoutException)
                {
                    _journalState = null;
                }
            }

            var row = _journalState?.FindByRequestId(requestId);
            if (row == null)
            {
                return null;
            }

            var inputs = row.Inputs;
            return new JobInputs
            {
                RowId = row.RowId,
                SubmittedAt = row.SubmittedAt,
                InputVideo = Text(inputs, "input_video"),
                ReferenceImage = Text(inputs, "reference_image"),
                Prompt = Text(inputs, "prompt"),
                Mode = Text(inputs, "mode"),
                Resolution = Text(inputs, "resolution"),
                Seed = long.TryParse(Text(inputs, "seed"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed) ? seed : (long?)null,
            };
        }

        private JobInputs? FromLedger(string requestId)
        {
            LoadLedger();
            if (_ledger == null || !_ledger.TryGetValue(requestId, out var entry))
            {
                return null;
            }

            return new JobInputs
            {
                RowId = string.IsNullOrEmpty(entry.RowId) ? null : entry.RowId,
                Row = entry.Row,
                SubmittedAt = entry.SubmittedAt,
                InputVideo = Blank(entry.Inputs.InputVideo),
                ReferenceImage = Blank(entry.Inputs.ReferenceImage),
                Prompt = Blank(entry.Inputs.Prompt),
                Mode = Blank(entry.Inputs.Mode),
                Resolution = Blank(entry.Inputs.Resolution),
                Seed = entry.Inputs.Seed,
            };
        }

        /// <summary>Reads the ledger on first use, and again only when it has grown since (a job submitted meanwhile).</summary>
        private void LoadLedger()
        {
            try
            {
                var path = LedgerLocation.Resolve();
                if (path == null || !File.Exists(path))
                {
                    return;
                }

                var length = new FileInfo(path).Length;
                if (_ledger != null && length == _ledgerLength)
                {
                    return;
                }

                var byRequest = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
                foreach (var entry in new SubmitLedger(path).ReadEntries())
                {
                    // The accepted submit over an "unknown" one that happened to show the same id.
                    if (!string.IsNullOrEmpty(entry.RequestId)
                        && (!byRequest.TryGetValue(entry.RequestId!, out var seen) || seen.Status == LedgerStatus.Unknown))
                    {
                        byRequest[entry.RequestId!] = entry;
                    }
                }

                _ledger = byRequest;
                _ledgerLength = length;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is ArgumentException
                || ex is NotSupportedException || ex is System.Security.SecurityException)
            {
            }
        }

        private static string? Text(IReadOnlyDictionary<string, object?>? values, string name) =>
            values != null && values.TryGetValue(name, out var value) && value != null
                ? Blank(Convert.ToString(value, CultureInfo.InvariantCulture))
                : null;

        private static string? Blank(string? text) => string.IsNullOrEmpty(text) ? null : text;
    }
}

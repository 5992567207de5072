using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Segmind.Client;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Lists the submits of the per-user ledger: every job Segmind accepted on this machine (and every submit whose
    /// answer was lost), with or without a batch journal. Reads a local file only: no key, no request.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "WanAnimateJob")]
    [OutputType(typeof(WanAnimateLedgerEntry))]
    public sealed class GetWanAnimateJobCommand : PSCmdlet
    {
        internal const string LedgerUnavailableId = "LedgerUnavailable";

        /// <summary>Only submits recorded at or after this time.</summary>
        [Parameter]
        public DateTime? Since { get; set; }

        /// <summary>Only submits in these states.</summary>
        [Parameter]
        [ValidateSet("pending", "completed", "failed", "saved", "unknown", "expired")]
        public string[]? Status { get; set; }

        /// <summary>Only the newest N of the submits that match.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int? Last { get; set; }

        protected override void EndProcessing()
        {
            string? path;
            try
            {
                path = LedgerLocation.Resolve();
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is PathTooLongException || ex is System.Security.SecurityException)
            {
                ThrowTerminatingError(Unavailable("The ledger location in $env:" + LedgerLocation.PathEnvironmentVariable + " is not a usable path: " + ex.Message));
                return;
            }

            if (path == null)
            {
                ThrowTerminatingError(Unavailable(LedgerLocation.Enabled
                    ? "There is no per-user data folder to keep the ledger in; set $env:" + LedgerLocation.PathEnvironmentVariable + " to a file path."
                    : "The ledger is turned off ($env:" + LedgerLocation.SwitchEnvironmentVariable + "); remove that variable to record submits again."));
                return;
            }

            VerboseLines.Write(this, "Reading the ledger '" + path + "'.");
            System.Collections.Generic.IReadOnlyList<LedgerEntry> entries;
            try
            {
                entries = new SubmitLedger(path).ReadEntries();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException)
            {
                var record = ErrorRecordFactory.ToErrorRecord(ex, path);
                record.ErrorDetails.RecommendedAction = "Check that the ledger file can be read.";
                ThrowTerminatingError(record);
                return;
            }

            var since = Since.HasValue ? new DateTimeOffset(Since.Value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(Since.Value, DateTimeKind.Local) : Since.Value) : (DateTimeOffset?)null;
            var selected = entries.Where(e => since is null || e.RecordedAt >= since.Value);
            if (Status != null && Status.Length > 0)
            {
                var wanted = Status.Select(s => s.ToLowerInvariant()).ToList();
                selected = selected.Where(e => wanted.Contains(Name(e.Status)));
            }

            var list = selected.ToList();
            if (Last.HasValue && list.Count > Last.Value)
            {
                list = list.Skip(list.Count - Last.Value).ToList();
            }

            foreach (var entry in list)
            {
                WriteObject(ToObject(entry));
            }
        }

        private static string Name(LedgerStatus status) => status.ToString().ToLowerInvariant();

        private static WanAnimateLedgerEntry ToObject(LedgerEntry entry) => new WanAnimateLedgerEntry
        {
            RequestId = entry.RequestId ?? string.Empty,
            Status = Name(entry.Status),
            SubmittedAt = IsoTimestamp.Of(entry.SubmittedAt),
            RecordedAt = IsoTimestamp.Of(entry.RecordedAt),
            RowId = entry.RowId,
            Row = entry.Row,
            InputVideo = entry.Inputs.InputVideo,
            ReferenceImage = entry.Inputs.ReferenceImage,
            Prompt = entry.Inputs.Prompt,
            Mode = entry.Inputs.Mode,
            Resolution = entry.Inputs.Resolution,
            Seed = entry.Inputs.Seed,
            Base64 = entry.Inputs.Base64,
            StatusUrl = entry.StatusUrl?.AbsoluteUri,
            ResponseUrl = entry.ResponseUrl?.AbsoluteUri,
            OutputFile = entry.SavedPath,
            Error = entry.Error,
            JournalPath = entry.JournalPath,
        };

        private static ErrorRecord Unavailable(string message) =>
            new ErrorRecord(new InvalidOperationException(message), ErrorRecordFactory.Prefix + LedgerUnavailableId, ErrorCategory.ResourceUnavailable, null)
            {
                ErrorDetails = new ErrorDetails(message),
            };
    }
}

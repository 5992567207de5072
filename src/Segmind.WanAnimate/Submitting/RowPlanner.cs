using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using Segmind.Client;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>
    /// Row planning for the submitting cmdlets, on the pipeline thread: a second row of this run with the same identity
    /// is refused, and the journal (through <see cref="JournaledSubmitter.Plan"/>) decides whether a row is submitted,
    /// resumed, or reported. Writes the error itself for every row it skips.
    /// </summary>
    internal sealed class RowPlanner
    {
        // Row identity -> the first row of this run that had it.
        private readonly Dictionary<string, int> _seenRows = new Dictionary<string, int>(StringComparer.Ordinal);
        private readonly JournaledSubmitter _submitter;
        private readonly bool _resubmitUnknown;
        private readonly bool _reuseJournaledRow;

        public RowPlanner(JournaledSubmitter submitter, bool resubmitUnknown, bool reuseJournaledRow = false)
        {
            _submitter = submitter;
            _resubmitUnknown = resubmitUnknown;
            _reuseJournaledRow = reuseJournaledRow;
        }

        /// <summary>What to do with the row, before the user confirms: nothing is written to the journal yet.</summary>
        public RowPlan Plan(PreparedRow row, Cmdlet cmdlet, out JournalRow? journaled)
        {
            journaled = null;
            if (_submitter.Journal == null)
            {
                return RowPlan.Submit;
            }

            if (_seenRows.TryGetValue(row.RowId, out var firstRow))
            {
                cmdlet.WriteError(JournalAccess.DuplicateRow(row.RowId, firstRow, row.Row, row.Target));
                return RowPlan.Skip;
            }

            _seenRows[row.RowId] = row.Row;
            return Decide(row, cmdlet, claim: false, out journaled);
        }

        /// <summary>Claims the row for this run, once the user confirmed; the journal may have changed meanwhile (another run).</summary>
        public RowPlan Claim(PreparedRow row, Cmdlet cmdlet, out JournalRow? journaled)
        {
            journaled = null;
            return _submitter.Journal == null ? RowPlan.Submit : Decide(row, cmdlet, claim: true, out journaled);
        }

        private RowPlan Decide(PreparedRow row, Cmdlet cmdlet, bool claim, out JournalRow? journaled)
        {
            RowDecision decision;
            try
            {
                decision = _submitter.Plan(row.RowId, _resubmitUnknown, claim);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is SegmindJournalException)
            {
                var record = ErrorRecordFactory.ToErrorRecord(ex, row.Target, row.Row);
                record.ErrorDetails.RecommendedAction = "Nothing was sent for this row because the journal could not be read or written. Check the journal (its disk, or its table) and run the batch again.";
                cmdlet.WriteError(record);
                journaled = null;
                return RowPlan.Skip;
            }

            journaled = decision.Row;
            if (decision.Kind != RowDecisionKind.Submit && decision.Kind != RowDecisionKind.HeldElsewhere && decision.Row != null && !_reuseJournaledRow
                && InputsChanged(row, decision.Row, cmdlet))
            {
                return RowPlan.Skip;
            }

            switch (decision.Kind)
            {
                case RowDecisionKind.Submit:
                    if (claim && decision.Released)
                    {
                        VerboseLines.Write(cmdlet, string.Format(
                            CultureInfo.InvariantCulture, "Row {0} ({1}): its earlier submit's outcome was unknown; submitting it again (-ResubmitUnknown).", row.Row, row.RowId));
                    }

                    return RowPlan.Submit;
                case RowDecisionKind.Unknown:
                    cmdlet.WriteError(JournalAccess.UnknownRow(decision.Row!, row.Row, row.Target));
                    return RowPlan.Skip;
                case RowDecisionKind.HeldElsewhere:
                    cmdlet.WriteError(JournalAccess.HeldElsewhere(decision.Row!, row.Row, row.Target));
                    return RowPlan.Skip;
                default:
                    if (claim || decision.Row?.RequestId != null)
                    {
                        VerboseLines.Write(cmdlet, string.Format(
                            CultureInfo.InvariantCulture, "Row {0} ({1}): already submitted as {2}; not re-sent.", row.Row, row.RowId, decision.Row?.RequestId));
                    }

                    return RowPlan.Resume;
            }
        }

        /// <summary>
        /// The same Id with other inputs than the journaled job's: following that job would hand back its video under
        /// the new inputs, so the row is refused naming the fields (unless -ReuseJournaledRow).
        /// </summary>
        private static bool InputsChanged(PreparedRow row, JournalRow journaled, Cmdlet cmdlet)
        {
            var differing = JournalInputs.Differences(journaled, row.Request);
            if (differing.Count == 0)
            {
                return false;
            }

            var message = string.Format(
                CultureInfo.InvariantCulture,
                "The row's Id '{1}' is in the journal for a job ({2}) submitted with other inputs: {3} differ (row {0}). Nothing was sent. Give these inputs a new Id to submit them, or use -ReuseJournaledRow to follow the journaled job.",
                row.Row,
                row.RowId,
                journaled.RequestId ?? "no request id",
                string.Join(", ", differing));
            cmdlet.WriteError(ErrorRecordFactory.InvalidRow(new SegmindValidationException(differing[0], message), row.Target, row.Row));
            return true;
        }
    }
}

using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Security;
using Segmind.Client;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Journal
{
    /// <summary>Opening the batch journal named by -JournalPath, and the journal-related records and errors the cmdlets share.</summary>
    internal static class JournalAccess
    {
        public const string DuplicateRowId = "DuplicateRow";
        public const string RowClaimedId = "RowClaimed";

        /// <summary>Opens (creating it and its folder when missing) the journal at an already resolved file-system path.</summary>
        public static BatchJournal Open(string resolvedPath)
        {
            var directory = Path.GetDirectoryName(resolvedPath);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            return BatchJournal.Open(resolvedPath);
        }

        /// <summary>
        /// Opens the journal table at <paramref name="address"/> with <paramref name="credential"/> (or the credential
        /// in the environment). The secret is turned into plain text only here, for the core, and never kept by the cmdlet.
        /// </summary>
        public static BatchJournal OpenTable(string address, SecureString? credential)
        {
            Segmind.Client.TableStorage.TableCredential? parsed = null;
            if (credential != null && credential.Length > 0)
            {
                parsed = Segmind.Client.TableStorage.TableCredential.Parse(new NetworkCredential(string.Empty, credential).Password, "JournalCredential");
            }

            return BatchJournal.Open(address, parsed);
        }

        /// <summary>
        /// Runs one journal write that follows something already done (an answer, an outcome, a save). If the disk
        /// refuses it the work itself still stands, so this warns instead of failing the row.
        /// </summary>
        public static void RecordAfter(IOperationSink sink, Action record, string what)
        {
            try
            {
                record();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException || ex is ObjectDisposedException || ex is SegmindJournalException)
            {
                sink.WriteWarning("Could not write to the journal that " + what + ": " + ex.Message);
            }
        }

        /// <summary>The error for a row whose earlier submit may or may not have created a job.</summary>
        public static ErrorRecord UnknownRow(JournalRow row, int rowNumber, object target)
        {
            var when = row.SubmittingAt?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "an unknown time";
            var what = row.SubmitInterrupted
                ? "a run stopped while its submit (started " + when + ") was in flight"
                : "its submit (started " + when + ") was sent but the answer was lost" + (string.IsNullOrWhiteSpace(row.Error) ? string.Empty : " (" + row.Error!.TrimEnd('.') + ")");
            var message = string.Format(
                CultureInfo.InvariantCulture,
                "Row {0} ({1}): the outcome of an earlier submit is unknown: {2}. The job may exist and be charged, so the row was not sent again.",
                rowNumber,
                row.RowId,
                what);
            var exception = new SegmindSubmitOutcomeUnknownException(message);
            var record = new ErrorRecord(exception, ErrorRecordFactory.Prefix + exception.ErrorId, ErrorCategory.ConnectionError, target)
            {
                ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = "Check the Segmind account's request history and credits for a job started around " + when
                        + ". If there is none, run the batch again with -ResubmitUnknown to submit this row again; if there is one, follow it with 'Wait-WanAnimateJob -RequestId <its id>'.",
                },
            };
            return record;
        }

        /// <summary>The error for a row another live run has claimed: that run submits it, this one leaves it alone.</summary>
        public static ErrorRecord HeldElsewhere(JournalRow row, int rowNumber, object target)
        {
            var holder = row.Claim?.ToString() ?? "another run";
            var message = string.Format(
                CultureInfo.InvariantCulture,
                "Row {0} ({1}) is being submitted by another run using this journal ({2}), so this run did not send it.",
                rowNumber,
                row.RowId,
                holder);
            var exception = new InvalidOperationException(message);
            return new ErrorRecord(exception, ErrorRecordFactory.Prefix + RowClaimedId, ErrorCategory.ResourceBusy, target)
            {
                ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = "Let that run finish, then run the batch again with the same -JournalPath to pick up its jobs. A claim left by a run that has ended is released automatically.",
                },
            };
        }

        /// <summary>The error for a second row of one run with the same identity as an earlier one.</summary>
        public static ErrorRecord DuplicateRow(string rowId, int firstRow, int row, object target)
        {
            var message = string.Format(
                CultureInfo.InvariantCulture,
                "Row {0} has the same identity ({1}) as row {2} of this run, so it was not submitted a second time.",
                row,
                rowId,
                firstRow);
            var exception = new SegmindValidationException("Id", message);
            return new ErrorRecord(exception, ErrorRecordFactory.Prefix + DuplicateRowId, ErrorCategory.InvalidArgument, target)
            {
                ErrorDetails = new ErrorDetails(message)
                {
                    RecommendedAction = "To submit the same inputs more than once on purpose, give each row its own value in an Id column.",
                },
            };
        }

        /// <summary>The error for a row whose job already ended FAILED, as the journal recorded.</summary>
        public static ErrorRecord FailedEarlier(JournalRow row, int rowNumber, object target)
        {
            var exception = new SegmindJobFailedException(
                string.Format(CultureInfo.InvariantCulture, "Job {0} FAILED.", row.RequestId),
                row.RequestId ?? string.Empty,
                row.Error);
            var record = ErrorRecordFactory.ToErrorRecord(exception, target, rowNumber);
            record.ErrorDetails.RecommendedAction =
                "The journal records that this row's job FAILED; it is not submitted again. Fix the inputs, or give the row a new Id, to submit it again.";
            return record;
        }

        /// <summary>True when the row's recorded output file is still there, with the recorded length.</summary>
        public static bool SavedFileIsIntact(JournalRow row)
        {
            if (row.Phase != JournalRowPhase.Saved || string.IsNullOrEmpty(row.SavedPath))
            {
                return false;
            }

            try
            {
                var file = new FileInfo(row.SavedPath);
                return file.Exists && (!row.SavedLength.HasValue || file.Length == row.SavedLength.Value);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is NotSupportedException)
            {
                return false;
            }
        }

        /// <summary>
        /// True when the saved row's job was submitted longer ago than <paramref name="retention"/>: Segmind keeps a
        /// result for that long after submission, so there is nothing left to download again.
        /// </summary>
        public static bool ResultExpired(JournalRow row, TimeSpan retention) =>
            // Wall time, as the journal's record times are; a row without its submit time counts from its last record.
            row.Phase == JournalRowPhase.Saved && (row.SubmittedAt ?? row.LastRecordAt) is DateTimeOffset since && DateTimeOffset.UtcNow - since > retention;

        /// <summary>The status a row's job was last known to have.</summary>
        public static string LastKnownStatus(JournalRow row) => row.Phase switch
        {
            JournalRowPhase.Completed => Segmind.Client.JobState.Completed,
            JournalRowPhase.Saved => Segmind.Client.JobState.Completed,
            JournalRowPhase.Failed => Segmind.Client.JobState.Failed,
            _ => Segmind.Client.JobState.Queued,
        };

        /// <summary>A completed row's result as the journal recorded it (used when its file is already saved).</summary>
        public static WanAnimateResult ToResult(JournalRow row)
        {
            var result = new WanAnimateResult
            {
                RequestId = row.RequestId ?? string.Empty,
                Status = LastKnownStatus(row),
                Output = row.Output,
                OutputFile = row.SavedPath,
                ResponseUrl = row.ResponseUrl?.AbsoluteUri,
                Metrics = ModelFactory.ToHashtable(row.Metrics),
                SubmittedAt = IsoTimestamp.Of(row.SubmittedAt),
                CompletedAt = IsoTimestamp.Of(row.LastRecordAt),
                Duration = IsoTimestamp.DurationBetween(row.SubmittedAt, row.LastRecordAt),
                RowId = row.RowId,
            };
            result.InferenceTime = Number(result.Metrics["inference_time"]);
            result.QueueTime = Number(result.Metrics["queue_time"]);
            result.Cost = Number(result.Metrics["cost"]);

            return result;
        }

        private static double? Number(object? value)
        {
            switch (value)
            {
                case null:
                    return null;
                case double d:
                    return d;
                case IConvertible convertible:
                    try
                    {
                        return convertible.ToDouble(CultureInfo.InvariantCulture);
                    }
                    catch (Exception ex) when (ex is FormatException || ex is InvalidCastException || ex is OverflowException)
                    {
                        return null;
                    }

                default:
                    return null;
            }
        }
    }
}

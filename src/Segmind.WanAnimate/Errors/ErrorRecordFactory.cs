using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using Segmind.Client;

namespace Segmind.WanAnimate.Errors
{
    /// <summary>
    /// Turns the core's exceptions into ErrorRecords with a stable id (<c>WanAnimate.&lt;ErrorId&gt;</c>), a category
    /// scripts can branch on, the input as TargetObject and a recommended action. The core never puts the API key
    /// into an exception, and nothing here adds it.
    /// </summary>
    internal static class ErrorRecordFactory
    {
        public const string Prefix = "WanAnimate.";
        public const string NoApiKeyId = "NoApiKey";
        public const string NotCompletedId = "NotCompleted";
        public const string NoOutputId = "NoOutput";
        public const string FileErrorId = "FileError";
        public const string UnexpectedId = "Unexpected";

        public static ErrorCategory CategoryOf(string errorId) => errorId switch
        {
            "Unauthorized" => ErrorCategory.AuthenticationError,
            NoApiKeyId => ErrorCategory.AuthenticationError,
            "Forbidden" => ErrorCategory.PermissionDenied,
            "NotFound" => ErrorCategory.ObjectNotFound,
            "InsufficientCredits" => ErrorCategory.QuotaExceeded,
            "RateLimited" => ErrorCategory.LimitsExceeded,
            "ServerError" => ErrorCategory.ResourceUnavailable,
            "WaitTimeout" => ErrorCategory.OperationTimeout,
            "InvalidArgument" => ErrorCategory.InvalidArgument,
            "BadRequest" => ErrorCategory.InvalidArgument,
            "JobFailed" => ErrorCategory.InvalidResult,
            "SubmitOutcomeUnknown" => ErrorCategory.ConnectionError,
            "ProtocolError" => ErrorCategory.ProtocolError,
            "JournalError" => ErrorCategory.ResourceUnavailable,
            "JournalAccessDenied" => ErrorCategory.PermissionDenied,
            "RowClaimed" => ErrorCategory.ResourceBusy,
            NotCompletedId => ErrorCategory.ResourceBusy,
            NoOutputId => ErrorCategory.InvalidResult,
            FileErrorId => ErrorCategory.WriteError,
            "OutputFileExists" => ErrorCategory.ResourceExists,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>The error record for <paramref name="exception"/> about <paramref name="target"/>; <paramref name="row"/> (1-based) is named in the message when known.</summary>
        public static ErrorRecord ToErrorRecord(Exception exception, object? target, int? row = null)
        {
            if (exception is AggregateException aggregate && aggregate.InnerExceptions.Count == 1)
            {
                exception = aggregate.InnerExceptions[0];
            }

            string errorId;
            string message;
            string? action = null;
            var category = ErrorCategory.NotSpecified;

            switch (exception)
            {
                case SegmindException segmind:
                    errorId = segmind.ErrorId;
                    category = CategoryOf(errorId);
                    message = Describe(segmind);
                    action = RecommendedAction(segmind);
                    break;
                case UnauthorizedAccessException:
                    errorId = FileErrorId;
                    category = ErrorCategory.PermissionDenied;
                    message = exception.Message;
                    action = "Check that the output folder is writable.";
                    break;
                case IOException:
                    errorId = FileErrorId;
                    category = ErrorCategory.WriteError;
                    message = exception.Message;
                    action = "Check the output path and the free disk space.";
                    break;
                default:
                    errorId = UnexpectedId;
                    message = exception.Message;
                    break;
            }

            if (row.HasValue && !message.StartsWith("Row ", StringComparison.Ordinal))
            {
                message = string.Format(CultureInfo.InvariantCulture, "Row {0}: {1}", row.Value, message);
            }

            var record = new ErrorRecord(exception, Prefix + errorId, category, target)
            {
                ErrorDetails = new ErrorDetails(message),
            };
            if (action != null)
            {
                record.ErrorDetails.RecommendedAction = action;
            }

            return record;
        }

        /// <summary>A row refused before anything was sent: names the row and the field.</summary>
        public static ErrorRecord InvalidRow(SegmindValidationException exception, object? target, int row)
        {
            var message = exception.Message;
            if (!string.IsNullOrEmpty(exception.Field) && message.IndexOf(exception.Field, StringComparison.OrdinalIgnoreCase) < 0)
            {
                message = exception.Field + ": " + message;
            }

            var record = new ErrorRecord(exception, Prefix + exception.ErrorId, ErrorCategory.InvalidArgument, target)
            {
                ErrorDetails = new ErrorDetails(string.Format(CultureInfo.InvariantCulture, "Row {0}: {1}", row, message)),
            };
            record.ErrorDetails.RecommendedAction = "Fix " + exception.Field + " in row " + row.ToString(CultureInfo.InvariantCulture) + "; nothing was sent for this row.";
            return record;
        }

        /// <summary>A usage error found by the cmdlet itself (bad combination of inputs).</summary>
        public static ErrorRecord InvalidArgument(string field, string message, object? target)
        {
            var exception = new SegmindValidationException(field, message);
            return new ErrorRecord(exception, Prefix + exception.ErrorId, ErrorCategory.InvalidArgument, target);
        }

        public static ErrorRecord NoApiKey()
        {
            var exception = new SegmindAuthenticationException(
                "No Segmind API key: pass -ApiKey or set the " + ApiKey.EnvironmentVariable + " environment variable.", statusCode: null);
            var record = new ErrorRecord(exception, Prefix + NoApiKeyId, ErrorCategory.AuthenticationError, null);
            record.ErrorDetails = new ErrorDetails(exception.Message)
            {
                RecommendedAction = "Set $env:" + ApiKey.EnvironmentVariable + " (in Azure Automation: from an encrypted variable) or pass -ApiKey.",
            };
            return record;
        }

        public static ErrorRecord NotCompleted(string requestId, string status, object? target)
        {
            var exception = new InvalidOperationException(string.Format(
                CultureInfo.InvariantCulture, "Job {0} is {1}, not COMPLETED: there is no output to save yet.", requestId, status));
            var record = new ErrorRecord(exception, Prefix + NotCompletedId, ErrorCategory.ResourceBusy, target);
            record.ErrorDetails = new ErrorDetails(exception.Message)
            {
                RecommendedAction = "Run Wait-WanAnimateJob -RequestId " + requestId + " first, then save its result.",
            };
            return record;
        }

        /// <summary>A COMPLETED job whose result carries no output at all: nothing to save, and waiting will not help.</summary>
        public static ErrorRecord NoOutput(string requestId, object? target)
        {
            var exception = new InvalidOperationException(string.Format(
                CultureInfo.InvariantCulture, "Job {0} is COMPLETED but its result has no output to save.", requestId));
            var record = new ErrorRecord(exception, Prefix + NoOutputId, ErrorCategory.InvalidResult, target);
            record.ErrorDetails = new ErrorDetails(exception.Message)
            {
                RecommendedAction = "Check the job with Get-WanAnimateStatus -RequestId " + requestId + "; submit it again if the output is needed.",
            };
            return record;
        }

        private static string Describe(SegmindException exception)
        {
            var id = exception.RequestId;
            switch (exception)
            {
                case SegmindWaitTimeoutException timeout:
                    // The cause of the last failed poll is kept: "unknown" alone would hide what the client saw.
                    return string.Format(
                        CultureInfo.InvariantCulture,
                        "Job {0} did not finish in time (last status: {1}{2}). The job continues at Segmind: run 'Wait-WanAnimateJob -RequestId {0}' to resume.",
                        id,
                        timeout.LastStatus ?? (timeout.LastFailure is null ? "unknown" : "never read"),
                        timeout.LastFailure is null ? string.Empty : "; the last poll failed: " + timeout.LastFailure.TrimEnd().TrimEnd('.'));
                case SegmindNotFoundException:
                    return string.IsNullOrEmpty(id)
                        ? "Not found: the request id is unknown or its result expired (Segmind keeps results for 1 hour)."
                        : string.Format(CultureInfo.InvariantCulture, "Job {0} was not found: the request id is unknown or its result expired (Segmind keeps results for 1 hour).", id);
                case SegmindJobFailedException:
                    return string.Format(CultureInfo.InvariantCulture, "Job {0} FAILED: {1}", id, exception.ServerMessage ?? exception.Message);
                case SegmindSubmitOutcomeUnknownException:
                    // The core already says it was not re-sent; only add what it may leave out.
                    return exception.Message.IndexOf("re-sent", StringComparison.OrdinalIgnoreCase) >= 0 && exception.Message.IndexOf("charged", StringComparison.OrdinalIgnoreCase) >= 0
                        ? exception.Message
                        : "The job may have been submitted and charged; it was not re-sent. " + exception.Message;
                default:
                    return exception.Message;
            }
        }

        private static string? RecommendedAction(SegmindException exception)
        {
            var id = exception.RequestId;
            switch (exception)
            {
                case SegmindAuthenticationException:
                    return "Check the API key: pass -ApiKey or set $env:" + ApiKey.EnvironmentVariable + " to a valid Segmind key.";
                case SegmindPermissionException:
                    return "Check that the key's account may use this model.";
                case SegmindNotFoundException:
                    return "Check the request id, or submit the job again.";
                case SegmindOutputFileExistsException:
                    return "Choose another -Path or -Directory, move the file away, or add -Force to replace it.";
                case SegmindInsufficientCreditsException:
                    return "Add credits to the Segmind account; Get-SegmindCredit shows the balance.";
                case SegmindRateLimitedException limited:
                    return limited.RetryAfter.HasValue
                        ? string.Format(CultureInfo.InvariantCulture, "Segmind asks to wait {0:0} seconds. Lower -ThrottleLimit or run the batch later.", limited.RetryAfter.Value.TotalSeconds)
                        : "Lower -ThrottleLimit or run the batch later.";
                case SegmindServerException:
                    return "Segmind is unavailable; try again later. Status checks, waits and downloads are safe to repeat.";
                case SegmindWaitTimeoutException:
                    return "Run 'Wait-WanAnimateJob -RequestId " + id + "' to resume waiting (results are kept for 1 hour after submission).";
                case SegmindJobFailedException:
                    return "Check the inputs (video, image, prompt) and submit the row again.";
                case SegmindSubmitOutcomeUnknownException:
                    return "Check the account's request history and credits before submitting this row again.";
                case SegmindBadRequestException:
                    return "Check the parameters; the server's message says which one it refused.";
                case SegmindValidationException validation:
                    return "Fix " + validation.Field + "; nothing was sent.";
                case SegmindJournalAccessException:
                    return "Give -JournalCredential (or $env:SEGMIND_JOURNAL_SAS) a valid, unexpired SAS with read, add and update rights on the table, or a connection string; nothing was sent.";
                case SegmindRowClaimedException:
                    return "Another run is submitting this row; nothing was sent by this one. Run the batch again when the other run has ended to pick up anything it left.";
                case SegmindJournalException:
                    return "Check that the journal table is reachable, then run the batch again; rows already submitted are not sent again.";
                default:
                    return null;
            }
        }
    }
}

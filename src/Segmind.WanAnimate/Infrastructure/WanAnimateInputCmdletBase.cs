using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>
    /// The job inputs shared by New-WanAnimateJob and Invoke-WanAnimate: parameters that bind from CSV columns in
    /// either header style, row validation before any network use, and the throttled submit.
    /// </summary>
    public abstract class WanAnimateInputCmdletBase : SegmindCmdletBase
    {
        private SemaphoreSlim? _submitThrottle;
        private int _commandLineRows;
        private int _pipelineRows;
        private PSObject? _inputObject;
        private int _submitted;
        private int _notSubmitted;

        // Row identity -> the first row of this run that had it (the pipeline thread only).
        private readonly Dictionary<string, int> _seenRows = new Dictionary<string, int>(StringComparer.Ordinal);

        // Submits between their first journal record and their last; a stop waits for them (see OnStopping).
        private readonly object _activeLock = new object();
        private int _activeSubmits;
        private TimeSpan _requestTimeout = TimeSpan.FromSeconds(100);

        /// <summary>The motion source: an http(s) URL or a local file (uploaded first).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("input_video", "Video")]
        [AllowEmptyString]
        public string InputVideo { get; set; } = string.Empty;

        /// <summary>The character image: an http(s) URL or a local file (uploaded first).</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("reference_image", "Image")]
        [AllowEmptyString]
        public string ReferenceImage { get; set; } = string.Empty;

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Prompt { get; set; } = string.Empty;

        // Mode, Resolution and Seed are not bound from piped rows: the cmdlet reads those columns itself (RowColumns),
        // so a bad value is that row's WanAnimate.InvalidArgument and the other rows go on, while the command line
        // keeps ValidateSet's completion and checks.
        [Parameter]
        [DefaultWhenEmptyTransformation(WanAnimateRequest.DefaultMode)]
        [ValidateSet("animation", "replace")]
        public string Mode { get; set; } = WanAnimateRequest.DefaultMode;

        [Parameter]
        [DefaultWhenEmptyTransformation(WanAnimateRequest.DefaultResolution)]
        [ValidateSet("480p", "576p", "720p")]
        public string Resolution { get; set; } = WanAnimateRequest.DefaultResolution;

        [Parameter]
        [WholeNumberTransformation("Seed", WanAnimateRequest.DefaultSeed)]
        public long Seed { get; set; } = WanAnimateRequest.DefaultSeed;

        /// <summary>Ask for the output as base64 text instead of a URL.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [BooleanSwitchTransformation("Base64")]
        public SwitchParameter Base64 { get; set; }

        /// <summary>The row's stable identity; by default a hash of its inputs.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("RowId")]
        [AllowNull]
        [AllowEmptyString]
        public string? Id { get; set; }

        /// <summary>Submits in flight at once; when given, also the account's shared budget of requests in flight.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 4;

        /// <summary>Requests a minute for this account, submits and polls together; 0 means unlimited. Applies only when given.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int RequestsPerMinute { get; set; }

        /// <summary>The batch journal: rows already submitted are never sent again, and every outcome is recorded.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>Submit again the journal's rows whose earlier submit outcome is unknown (after checking the account).</summary>
        [Parameter]
        public SwitchParameter ResubmitUnknown { get; set; }

        /// <summary>Follow the journal's job for a row whose Id it holds even when the row's inputs differ from that job's.</summary>
        [Parameter]
        public SwitchParameter ReuseJournaledRow { get; set; }

        /// <summary>The upload-asset address used for local files.</summary>
        [Parameter]
        public Uri? UploadUri { get; set; }

        /// <summary>The piped row itself, so errors can point at it. Binds anything; the named parameters bind from its properties.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject
        {
            get => _inputObject;
            set
            {
                // The binder sets this first for every piped row, before a ValidateSet on another parameter can
                // reject the row, so counting here keeps row numbers true even when earlier rows were refused.
                // (Between rows the binder restores the default, null, which is not a row.)
                if (value != null)
                {
                    _pipelineRows++;
                }

                _inputObject = value;
            }
        }

        internal override void ConfigureClient(SegmindClientOptions options)
        {
            if (UploadUri != null)
            {
                options.UploadUri = UploadUri;
            }

            _submitThrottle = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);
            _requestTimeout = options.RequestTimeout;

            // Submits and polls of this account share one process-wide budget; an explicit -ThrottleLimit or
            // -RequestsPerMinute changes it, otherwise the shared default (or an earlier explicit value) stands.
            ConfigurePacing(options, ThrottleLimit, RequestsPerMinute);
            if (options.ApiKey != null)
            {
                options.RequestGate = new StopAwareGate(options.RequestGate ?? RequestGateRegistry.Shared(options.ApiKey, options.BaseUri));
            }
        }

        internal override string? JournalPathArgument => JournalPath;

        /// <summary>
        /// A stop cancels everything that has not sent its POST yet; a POST already out is left to be answered (within
        /// the request timeout) so its request id reaches the journal and the next run does not see the row as unknown.
        /// </summary>
        internal override void OnStopping()
        {
            var deadline = DateTime.UtcNow + _requestTimeout + TimeSpan.FromSeconds(5);
            lock (_activeLock)
            {
                while (_activeSubmits > 0)
                {
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        return;
                    }

                    Monitor.Wait(_activeLock, left);
                }
            }
        }

        /// <summary>
        /// With a journal: decides, on the pipeline thread, what to do with a prepared row. Writes the error itself
        /// for rows that must be skipped (unknown outcome, duplicate identity).
        /// </summary>
        internal RowPlan PlanRow(PreparedRow row, out JournalRow? journaled)
        {
            journaled = null;
            var journal = Journal;
            if (journal == null)
            {
                return RowPlan.Submit;
            }

            if (_seenRows.TryGetValue(row.RowId, out var firstRow))
            {
                WriteError(JournalAccess.DuplicateRow(row.RowId, firstRow, row.Row, row.Target));
                return RowPlan.Skip;
            }

            _seenRows[row.RowId] = row.Row;
            try
            {
                journaled = journal.Find(row.RowId);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(ErrorMapper.ToErrorRecord(ex, row.Target, row.Row));
                return RowPlan.Skip;
            }

            if (journaled == null || journaled.MaySubmit)
            {
                return RowPlan.Submit;
            }

            if (!ReuseJournaledRow.IsPresent)
            {
                // The same Id with other inputs: following the old job would hand back its video under the new inputs.
                var differing = JournalInputs.Differences(journaled, row.Request);
                if (differing.Count > 0)
                {
                    var message = string.Format(
                        CultureInfo.InvariantCulture,
                        "The row's Id '{1}' is in the journal for a job ({2}) submitted with other inputs: {3} differ (row {0}). Nothing was sent. Give these inputs a new Id to submit them, or use -ReuseJournaledRow to follow the journaled job.",
                        row.Row,
                        row.RowId,
                        journaled.RequestId ?? "no request id",
                        string.Join(", ", differing));
                    WriteError(ErrorMapper.InvalidRow(new SegmindValidationException(differing[0], message), row.Target, row.Row));
                    return RowPlan.Skip;
                }
            }

            if (journaled.Phase == JournalRowPhase.Unknown)
            {
                if (ResubmitUnknown.IsPresent)
                {
                    return RowPlan.ReleaseAndSubmit;
                }

                WriteError(JournalAccess.UnknownRow(journaled, row.Row, row.Target));
                return RowPlan.Skip;
            }

            WriteVerbose(string.Format(
                CultureInfo.InvariantCulture, "Row {0} ({1}): already submitted as {2}; not re-sent.", row.Row, row.RowId, journaled.RequestId));
            return RowPlan.Resume;
        }

        /// <summary>Records the user's -ResubmitUnknown decision for a row, just before it is submitted again.</summary>
        internal bool ReleaseRow(PreparedRow row)
        {
            try
            {
                Journal!.RecordReleased(row.RowId, "released by -ResubmitUnknown");
                WriteVerbose(string.Format(
                    CultureInfo.InvariantCulture, "Row {0} ({1}): its earlier submit's outcome was unknown; submitting it again (-ResubmitUnknown).", row.Row, row.RowId));
                return true;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException)
            {
                WriteError(ErrorMapper.ToErrorRecord(ex, row.Target, row.Row));
                return false;
            }
        }

        /// <summary>The job of a row the journal says was submitted, rebuilt so the pipeline can follow it.</summary>
        internal static WanAnimateJob RebuildJob(PreparedRow row, JournalRow journaled) =>
            ToJob(row, journaled.RequestId ?? string.Empty, JournalAccess.LastKnownStatus(journaled), journaled.StatusUrl, journaled.ResponseUrl, journaled.SubmittedAt ?? default);

        /// <summary>The job object for a row: from Segmind's submit answer, or rebuilt from the journal on a re-run.</summary>
        private static WanAnimateJob ToJob(PreparedRow row, string requestId, string status, Uri? statusUrl, Uri? responseUrl, DateTimeOffset submittedAt) => new WanAnimateJob
        {
            RequestId = requestId,
            Status = status,
            StatusUrl = statusUrl?.AbsoluteUri,
            ResponseUrl = responseUrl?.AbsoluteUri,
            SubmittedAt = IsoTimestamp.Of(submittedAt),
            InputVideo = row.InputVideo,
            ReferenceImage = row.ReferenceImage,
            Prompt = row.Request.Prompt,
            Mode = row.Request.Mode,
            Resolution = row.Request.Resolution,
            Seed = row.Request.Seed,
            Base64 = row.Request.Base64,
            RowId = row.RowId,
            Row = row.Row,
        };

        protected override void ValidateParameters()
        {
            if (UploadUri != null && (!UploadUri.IsAbsoluteUri || (UploadUri.Scheme != Uri.UriSchemeHttp && UploadUri.Scheme != Uri.UriSchemeHttps)))
            {
                ThrowTerminatingError(ErrorMapper.InvalidArgument("UploadUri", "-UploadUri '" + UploadUri.OriginalString + "' is not an absolute http(s) address.", UploadUri));
            }
        }

        /// <summary>
        /// Numbers the input, checks every field (nothing is sent for a bad row) and writes an error naming the row
        /// and field when one is wrong. Runs on the pipeline thread.
        /// </summary>
        internal bool TryPrepareRow(out PreparedRow prepared)
        {
            var row = _pipelineRows > 0 ? _pipelineRows : ++_commandLineRows;
            var target = InputObject?.BaseObject is string || InputObject == null ? DescribeBoundInputs() : (object)InputObject;
            WanAnimateRequest request;
            try
            {
                ColumnBinding.EnsureOneColumnPerParameter(InputObject, GetType());
                var columns = RowColumns.Read(this, InputObject, Mode, Resolution, Seed);
                request = new WanAnimateRequest
                {
                    InputVideo = ResolveAsset(InputVideo),
                    ReferenceImage = ResolveAsset(ReferenceImage),
                    Prompt = Prompt ?? string.Empty,
                    Mode = columns.Mode.Trim().ToLowerInvariant(),
                    Resolution = columns.Resolution.Trim().ToLowerInvariant(),
                    Seed = columns.Seed,
                    Base64 = Base64.IsPresent,
                };
                request.Validate();
                CheckAsset("InputVideo", InputVideo, request.InputVideo);
                CheckAsset("ReferenceImage", ReferenceImage, request.ReferenceImage);
            }
            catch (SegmindValidationException ex)
            {
                WriteError(ErrorMapper.InvalidRow(ex, target, row));
                prepared = null!;
                return false;
            }

            // The journal's own identity rule, so a row's RowId and its journal record always agree.
            var rowId = BatchJournal.RowIdentity(request, Id);
            prepared = new PreparedRow(row, rowId, target, request, InputVideo ?? string.Empty, ReferenceImage ?? string.Empty);
            return true;
        }

        /// <summary>
        /// Submits one prepared row, at most ThrottleLimit at a time. Errors go to the sink; null means it was not
        /// submitted. With a journal, follows its protocol: <c>submitting</c> is on disk before the POST, and the answer
        /// (or why there is none) before the job is handed on.
        /// </summary>
        internal async Task<WanAnimateJob?> SubmitAsync(PreparedRow row, IOperationSink sink, CancellationToken cancellation)
        {
            await _submitThrottle!.WaitAsync(cancellation).ConfigureAwait(false);
            lock (_activeLock)
            {
                _activeSubmits++;
            }

            try
            {
                return await SubmitOnceAsync(row, sink, cancellation).ConfigureAwait(false);
            }
            finally
            {
                lock (_activeLock)
                {
                    _activeSubmits--;
                    Monitor.PulseAll(_activeLock);
                }

                _submitThrottle.Release();
            }
        }

        private async Task<WanAnimateJob?> SubmitOnceAsync(PreparedRow row, IOperationSink sink, CancellationToken cancellation)
        {
            // A stop that came while this row waited for its turn: nothing has been written or sent for it.
            cancellation.ThrowIfCancellationRequested();
            var journal = Journal;
            if (journal != null)
            {
                try
                {
                    journal.RecordSubmitting(row.RowId, row.Request);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is TimeoutException)
                {
                    // Unrecorded, the submit could be sent twice by a later run: so it is not sent at all.
                    var record = ErrorMapper.ToErrorRecord(ex, row.Target, row.Row);
                    record.ErrorDetails.RecommendedAction = "Nothing was sent for this row because the journal could not record it. Check the journal's disk and run the batch again.";
                    sink.WriteError(record);
                    return null;
                }
            }

            SubmittedJob submitted;
            using (var scope = SubmitScope.Begin(cancellation))
            {
                try
                {
                    submitted = await Client.SubmitAsync(row.Request, scope.Token).ConfigureAwait(false);
                }
                catch (SegmindSubmitOutcomeUnknownException ex)
                {
                    if (journal != null)
                    {
                        JournalAccess.RecordAfter(sink, () => journal.RecordUnknown(row.RowId, ex.Message), "row " + row.RowId + "'s submit outcome is unknown");
                    }

                    ReportSubmits(sink, ref _notSubmitted);
                    var record = ErrorMapper.ToErrorRecord(ex, row.Target, row.Row);
                    if (journal != null)
                    {
                        record.ErrorDetails.RecommendedAction = "Check the Segmind account's request history and credits. If no job was created for row "
                            + row.RowId + ", run the batch again with -ResubmitUnknown to submit it again; the journal keeps it from being re-sent otherwise.";
                    }

                    sink.WriteError(record);
                    return null;
                }
                catch (SegmindException ex)
                {
                    if (journal != null)
                    {
                        JournalAccess.RecordAfter(sink, () => journal.RecordNotSubmitted(row.RowId, ex.ErrorId, ex.Message), "row " + row.RowId + " was not submitted");
                    }

                    ReportSubmits(sink, ref _notSubmitted);
                    sink.WriteError(ErrorMapper.ToErrorRecord(ex, row.Target, row.Row));
                    return null;
                }
                catch (OperationCanceledException) when (!scope.Sending)
                {
                    // Stopped while waiting (gate, upload, retry delay): the last POST, if any, was provably refused.
                    if (journal != null)
                    {
                        JournalAccess.RecordAfter(sink, () => journal.RecordNotSubmitted(row.RowId, "Stopped", "Stopped before the submit was sent."), "row " + row.RowId + " was not submitted");
                    }

                    throw;
                }
            }

            if (journal != null)
            {
                JournalAccess.RecordAfter(
                    sink,
                    () => journal.RecordSubmitted(row.RowId, submitted),
                    "row " + row.RowId + " was submitted as " + submitted.RequestId + " (attach that request id if the next run reports the row as unknown)");
            }

            ReportSubmits(sink, ref _submitted);
            if (sink.VerboseWanted)
            {
                sink.WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Row {0}: submitted as {1}.", row.Row, submitted.RequestId));
            }

            return ToJob(row, submitted.RequestId, submitted.Status, submitted.StatusUrl, submitted.ResponseUrl, submitted.SubmittedAt);
        }

        private void ReportSubmits(IOperationSink sink, ref int counter)
        {
            Interlocked.Increment(ref counter);
            if (!sink.StatusWanted)
            {
                return;
            }

            sink.SetStatus(string.Format(
                CultureInfo.InvariantCulture, "{0} submitted, {1} not submitted.", Volatile.Read(ref _submitted), Volatile.Read(ref _notSubmitted)));
        }

        /// <summary>Anything with a scheme is meant as a URL (the core then insists on http or https); the rest are paths.</summary>
        internal static bool HasScheme(string? value) => value != null && SchemePrefix.IsMatch(value.Trim());

        private static readonly Regex SchemePrefix = new Regex("^[A-Za-z][A-Za-z0-9+.-]*://", RegexOptions.CultureInvariant);

        private string ResolveAsset(string? value)
        {
            if (string.IsNullOrWhiteSpace(value) || HasScheme(value))
            {
                return value?.Trim() ?? string.Empty;
            }

            var text = value!.Trim();
            try
            {
                return ResolvePath(text);
            }
            catch (Exception ex) when (ex is ItemNotFoundException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException || ex is PSInvalidOperationException)
            {
                return text;
            }
        }

        private static void CheckAsset(string field, string? given, string resolved)
        {
            if (string.IsNullOrWhiteSpace(resolved) || HasScheme(resolved))
            {
                return;
            }

            if (!File.Exists(resolved))
            {
                throw new SegmindValidationException(
                    field,
                    string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is neither an http(s) URL nor an existing file.", field, given));
            }

            // An empty file, a pipe or a device is refused here, before a journal line or a request is written.
            WanAnimateRequest.EnsureUsableLocalFile(field, given ?? resolved, resolved);
        }

        /// <summary>The row as given on the command line, for TargetObject when nothing was piped.</summary>
        private PSObject DescribeBoundInputs()
        {
            var row = new PSObject();
            row.Properties.Add(new PSNoteProperty("InputVideo", InputVideo));
            row.Properties.Add(new PSNoteProperty("ReferenceImage", ReferenceImage));
            row.Properties.Add(new PSNoteProperty("Prompt", Prompt));
            row.Properties.Add(new PSNoteProperty("Mode", Mode));
            row.Properties.Add(new PSNoteProperty("Resolution", Resolution));
            row.Properties.Add(new PSNoteProperty("Seed", Seed));
            row.Properties.Add(new PSNoteProperty("Base64", Base64.IsPresent));
            row.Properties.Add(new PSNoteProperty("Id", Id));
            return row;
        }
    }

    /// <summary>What a submitting cmdlet does with a row, given the journal.</summary>
    internal enum RowPlan
    {
        /// <summary>Not in the journal, or safe to submit again: submit it.</summary>
        Submit,

        /// <summary>Its earlier submit's outcome is unknown and -ResubmitUnknown was given: record the release, then submit.</summary>
        ReleaseAndSubmit,

        /// <summary>A job exists for it: follow that job, never submit again.</summary>
        Resume,

        /// <summary>Reported and left alone.</summary>
        Skip,
    }

    /// <summary>One validated input row, ready to submit.</summary>
    internal sealed class PreparedRow
    {
        public PreparedRow(int row, string rowId, object target, WanAnimateRequest request, string inputVideo, string referenceImage)
        {
            Row = row;
            RowId = rowId;
            Target = target;
            Request = request;
            InputVideo = inputVideo;
            ReferenceImage = referenceImage;
        }

        public int Row { get; }

        public string RowId { get; }

        /// <summary>The input as the user gave it (TargetObject of errors).</summary>
        public object Target { get; }

        public WanAnimateRequest Request { get; }

        /// <summary>The inputs as given (a path stays a path), so the row's identity does not depend on where files were uploaded.</summary>
        public string InputVideo { get; }

        public string ReferenceImage { get; }

        public string Description => string.Format(
            CultureInfo.InvariantCulture, "Row {0}: {1} + {2} ({3}, {4})", Row, InputVideo, ReferenceImage, Request.Mode, Request.Resolution);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Submitting;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// The job inputs shared by New-WanAnimateJob and Invoke-WanAnimate: parameters that bind from CSV columns in
    /// either header style, row validation before any network use, and the throttled submit.
    /// </summary>
    public abstract class WanAnimateInputCmdletBase : BatchCmdletBase
    {
        private int _commandLineRows;
        private int _pipelineRows;
        private PSObject? _inputObject;
        private JournaledSubmitter? _submitter;
        private RowPlanner? _planner;
        private SubmitProgressBar? _submitProgress;
        private TimeSpan _requestTimeout = TimeSpan.FromSeconds(100);

        /// <summary>Which accepted jobs reached the pipeline; the rest are named in a warning if the run ends early.</summary>
        internal PaidJobReport PaidJobs { get; } = new PaidJobReport();

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

        /// <summary>How long Segmind keeps a job after submission (a number means seconds); the batch keeps every job collectable inside it. Default SEGMIND_RETENTION, else 1 hour.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan? Retention { get; set; }

        /// <summary>The batch journal: rows already submitted are never sent again, and every outcome is recorded.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>
        /// For a -JournalPath that is an Azure table address: a SAS token or storage connection string (a SecureString,
        /// or a plain string converted at binding). Falls back to $env:SEGMIND_JOURNAL_SAS, then $env:SEGMIND_JOURNAL_CONNECTION_STRING.
        /// </summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? JournalCredential { get; set; }

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

            _requestTimeout = options.RequestTimeout;

            // Submits and polls of this account share one process-wide budget; an explicit -ThrottleLimit or
            // -RequestsPerMinute changes it, otherwise the shared default (or an earlier explicit value) stands.
            ConfigurePacing(options);
        }

        internal override string? JournalPathArgument => JournalPath;

        internal override SecureString? JournalCredentialArgument => JournalCredential;

        /// <summary>The journaled submit operation of this run: every row goes through it, with or without -JournalPath.</summary>
        internal JournaledSubmitter Submitter => _submitter ?? throw new InvalidOperationException("The submitter is created in BeginProcessing.");

        internal override void OnClientReady()
        {
            _submitter = new JournaledSubmitter(Client, Journal, SubmitLedger.OpenDefault(), ThrottleLimit);
            _planner = new RowPlanner(_submitter, ResubmitUnknown.IsPresent, ReuseJournaledRow.IsPresent);
            var options = Client.Options;
            _submitProgress = new SubmitProgressBar(_submitter, () => options.ApiKey == null ? null : RequestGateRegistry.Get(options.ApiKey, options.BaseUri ?? SegmindClientOptions.DefaultBaseUri).GetStatus(), options.TimeProvider ?? TimeProvider.System);
        }

        /// <summary>A stop cancels every submit not yet on the wire; those on the wire are answered (bounded) and recorded.</summary>
        internal override void OnStopping() => _submitter?.Settle(SettleBound);

        internal override void OnAbandoned(Action<string> warn)
        {
            var submitter = _submitter;
            if (submitter == null)
            {
                return;
            }

            if (!submitter.Settle(SettleBound))
            {
                warn("Some submits were still unanswered after " + SettleBound.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)
                    + " s; their rows are recorded as in flight" + (Journal == null ? "." : " in the journal, and the next run reports them as unknown."));
            }

            foreach (var warning in PaidJobs.Undelivered(submitter.Accepted, Journal?.Path))
            {
                warn(warning);
            }
        }

        internal override void OnReleased() => _submitter?.Dispose();

        private TimeSpan SettleBound => _requestTimeout + TimeSpan.FromSeconds(5);

        /// <summary>What to do with a prepared row before the user confirms (writes the error for rows it skips).</summary>
        internal RowPlan PlanRow(PreparedRow row, out JournalRow? journaled) => _planner!.Plan(row, this, out journaled);

        /// <summary>Claims a confirmed row for this run; the journal may say otherwise now (another run took it meanwhile).</summary>
        internal RowPlan ClaimRow(PreparedRow row, out JournalRow? journaled) => _planner!.Claim(row, this, out journaled);

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
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("UploadUri", "-UploadUri '" + UploadUri.OriginalString + "' is not an absolute http(s) address.", UploadUri));
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
                WriteError(ErrorRecordFactory.InvalidRow(ex, target, row));
                prepared = null!;
                return false;
            }

            // The journal's own identity rule, so a row's RowId and its journal record always agree.
            var rowId = BatchJournal.RowIdentity(request, Id);
            prepared = new PreparedRow(row, rowId, target, request, InputVideo ?? string.Empty, ReferenceImage ?? string.Empty);
            return true;
        }

        /// <summary>
        /// Submits one prepared row through the journaled submit operation. Errors and warnings go to the sink; null
        /// means no job exists for the row. A stop before the POST went on the wire throws OperationCanceledException.
        /// </summary>
        internal async Task<WanAnimateJob?> SubmitAsync(PreparedRow row, IOperationSink sink, CancellationToken cancellation)
        {
            _submitProgress?.Update(sink);
            var outcome = await Submitter.SubmitAsync(row.ToSubmitRow(), cancellation).ConfigureAwait(false);
            foreach (var warning in outcome.Warnings)
            {
                sink.WriteWarning(warning);
            }

            _submitProgress?.Update(sink, force: outcome.Kind != SubmitOutcomeKind.Stopped);
            switch (outcome.Kind)
            {
                case SubmitOutcomeKind.Submitted:
                    var submitted = outcome.Job!;
                    if (sink.VerboseWanted)
                    {
                        sink.WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Row {0}: submitted as {1}.", row.Row, submitted.RequestId));
                    }

                    return ToJob(row, submitted.RequestId, submitted.Status, submitted.StatusUrl, submitted.ResponseUrl, submitted.SubmittedAt);

                case SubmitOutcomeKind.Stopped:
                    throw new OperationCanceledException("Stopped before the submit was sent.", outcome.Error, cancellation);

                case SubmitOutcomeKind.Unknown:
                    var unknown = ErrorRecordFactory.ToErrorRecord(outcome.Error!, row.Target, row.Row);
                    if (Journal != null)
                    {
                        unknown.ErrorDetails.RecommendedAction = "Check the Segmind account's request history and credits. If no job was created for row "
                            + row.RowId + ", run the batch again with -ResubmitUnknown to submit it again; the journal keeps it from being re-sent otherwise.";
                    }

                    sink.WriteError(unknown);
                    return null;

                default:
                    var record = ErrorRecordFactory.ToErrorRecord(outcome.Error!, row.Target, row.Row);
                    if (outcome.JournalRefused)
                    {
                        record.ErrorDetails.RecommendedAction = outcome.Error is SegmindRowClaimedException
                            ? "Another run holds this row; nothing was sent by this one."
                            : "Nothing was sent for this row because the journal could not record it. Check the journal (its disk, or its table) and run the batch again.";
                    }

                    sink.WriteError(record);
                    return null;
            }
        }

        internal override void OnAllWorkDone(IOperationSink sink) => _submitProgress?.Finish(sink);

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
}

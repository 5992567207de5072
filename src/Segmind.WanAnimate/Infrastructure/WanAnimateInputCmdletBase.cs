using System;
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

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [DefaultWhenEmptyTransformation(WanAnimateRequest.DefaultMode)]
        [ValidateSet("animation", "replace")]
        public string Mode { get; set; } = WanAnimateRequest.DefaultMode;

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [DefaultWhenEmptyTransformation(WanAnimateRequest.DefaultResolution)]
        [ValidateSet("480p", "576p", "720p")]
        public string Resolution { get; set; } = WanAnimateRequest.DefaultResolution;

        [Parameter(ValueFromPipelineByPropertyName = true)]
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

        /// <summary>Submits in flight at once.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 4;

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
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) && options.ApiKey != null)
            {
                // Submits and polls of this account share one process-wide budget of requests in flight; an explicit
                // -ThrottleLimit resizes it, otherwise the shared default (or an earlier explicit value) stands.
                RequestGateRegistry.Configure(options.ApiKey, options.BaseUri, throttleLimit: ThrottleLimit);
            }
        }

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
            var mode = (Mode ?? WanAnimateRequest.DefaultMode).Trim().ToLowerInvariant();
            var resolution = (Resolution ?? WanAnimateRequest.DefaultResolution).Trim().ToLowerInvariant();
            var request = new WanAnimateRequest
            {
                InputVideo = ResolveAsset(InputVideo),
                ReferenceImage = ResolveAsset(ReferenceImage),
                Prompt = Prompt ?? string.Empty,
                Mode = mode,
                Resolution = resolution,
                Seed = Seed,
                Base64 = Base64.IsPresent,
            };

            try
            {
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

            var rowId = string.IsNullOrWhiteSpace(Id)
                ? RowIdentity.Compute(InputVideo ?? string.Empty, ReferenceImage ?? string.Empty, request.Prompt, mode, resolution, Seed, request.Base64)
                : Id!.Trim();
            prepared = new PreparedRow(row, rowId, target, request, InputVideo ?? string.Empty, ReferenceImage ?? string.Empty);
            return true;
        }

        /// <summary>Submits one prepared row, at most ThrottleLimit at a time. Errors go to the sink; null means it was not submitted.</summary>
        internal async Task<WanAnimateJob?> SubmitAsync(PreparedRow row, IOperationSink sink, CancellationToken cancellation)
        {
            await _submitThrottle!.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                var submitted = await Client.SubmitAsync(row.Request, cancellation).ConfigureAwait(false);
                ReportSubmits(sink, ref _submitted);
                sink.WriteVerbose(string.Format(CultureInfo.InvariantCulture, "Row {0}: submitted as {1}.", row.Row, submitted.RequestId));
                return new WanAnimateJob
                {
                    RequestId = submitted.RequestId,
                    Status = submitted.Status,
                    StatusUrl = submitted.StatusUrl?.AbsoluteUri,
                    ResponseUrl = submitted.ResponseUrl?.AbsoluteUri,
                    SubmittedAt = submitted.SubmittedAt,
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
            }
            catch (SegmindException ex)
            {
                ReportSubmits(sink, ref _notSubmitted);
                sink.WriteError(ErrorMapper.ToErrorRecord(ex, row.Target, row.Row));
                return null;
            }
            finally
            {
                _submitThrottle.Release();
            }
        }

        private void ReportSubmits(IOperationSink sink, ref int counter)
        {
            Interlocked.Increment(ref counter);
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

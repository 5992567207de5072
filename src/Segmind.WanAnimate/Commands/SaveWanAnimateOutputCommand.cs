using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Threading;
using Segmind.Client;
using Segmind.WanAnimate.Infrastructure;
using JobState = Segmind.Client.JobState;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Saves job outputs as video files: each as &lt;RequestId&gt;.mp4 in -Directory, or one to -Path. A complete file
    /// already there is kept unless -Force. Writes the result with OutputFile set.
    /// </summary>
    [Cmdlet(VerbsData.Save, "WanAnimateOutput", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ResultToDirectorySet)]
    [OutputType(typeof(WanAnimateResult))]
    public sealed class SaveWanAnimateOutputCommand : SegmindCmdletBase
    {
        private const string ResultToDirectorySet = "ResultToDirectory";
        private const string ResultToPathSet = "ResultToPath";
        private const string IdToDirectorySet = "ByIdToDirectory";
        private const string IdToPathSet = "ByIdToPath";

        /// <summary>Downloads at once: enough to overlap, few enough not to saturate a runbook's bandwidth.</summary>
        private const int ConcurrentDownloads = 4;

        private readonly SemaphoreSlim _downloads = new SemaphoreSlim(ConcurrentDownloads, ConcurrentDownloads);
        private int _inputs;

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ResultToDirectorySet)]
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ResultToPathSet)]
        public WanAnimateResult? InputObject { get; set; }

        /// <summary>Fetch this job's result first, then save it.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdToDirectorySet)]
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdToPathSet)]
        [Alias("request_id", "Id")]
        [ValidateNotNullOrEmpty]
        public string? RequestId { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdToDirectorySet)]
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = IdToPathSet)]
        [Alias("response_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? ResponseUrl { get; set; }

        /// <summary>The folder to save into (created when missing); files are named &lt;RequestId&gt;.mp4.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ResultToDirectorySet)]
        [Parameter(Mandatory = true, ParameterSetName = IdToDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? Directory { get; set; }

        /// <summary>The exact file to write; only for a single input.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ResultToPathSet)]
        [Parameter(Mandatory = true, ParameterSetName = IdToPathSet)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected override bool RunAsJob => AsJob.IsPresent;

        protected override void ProcessInput()
        {
            var piped = InputObject;
            var requestId = piped?.RequestId ?? RequestId;
            object target = (object?)piped ?? requestId ?? string.Empty;
            if (string.IsNullOrWhiteSpace(requestId))
            {
                WriteError(ErrorMapper.InvalidArgument("RequestId", "The input has no RequestId: nothing to save.", target));
                return;
            }

            _inputs++;
            if (Path != null && _inputs > 1)
            {
                WriteError(ErrorMapper.InvalidArgument(
                    "Path",
                    string.Format(CultureInfo.InvariantCulture, "-Path names a single file but input {0} ({1}) arrived; use -Directory for several results.", _inputs, requestId),
                    target));
                return;
            }

            string destination;
            try
            {
                destination = Path != null
                    ? ResolvePath(Path)
                    : System.IO.Path.Combine(ResolvePath(Directory!), OutputFileName.For(requestId!));
            }
            catch (ArgumentException ex)
            {
                WriteError(ErrorMapper.InvalidArgument("RequestId", ex.Message, target));
                return;
            }

            if (!ShouldProcess(destination, "Save the output of Wan Animate job " + requestId))
            {
                return;
            }

            var id = requestId!.Trim();
            var responseUrl = JobAddress.Parse(piped?.ResponseUrl ?? ResponseUrl);
            var overwrite = Force.IsPresent;
            var known = piped == null ? null : Clone(piped);
            Dispatch(async (sink, cancellation) =>
            {
                await _downloads.WaitAsync(cancellation).ConfigureAwait(false);
                try
                {
                    JobResult result;
                    WanAnimateResult output;
                    if (known != null && known.Status == JobState.Completed && !string.IsNullOrEmpty(known.Output))
                    {
                        result = ModelFactory.ToJobResult(known);
                        output = known;
                    }
                    else
                    {
                        result = await Client.GetResultAsync(new JobReference(id, null, responseUrl), cancellation).ConfigureAwait(false);
                        output = ModelFactory.ToResult(result, known == null ? null : JobInputs.FromPipelineObject(PSObject.AsPSObject(known)), responseUrl?.AbsoluteUri);
                    }

                    if (result.Status == JobState.Failed)
                    {
                        throw new SegmindJobFailedException("Job " + id + " FAILED.", id, result.Error);
                    }

                    if (result.Status != JobState.Completed || result.OutputKind == OutputKind.None)
                    {
                        sink.WriteError(ErrorMapper.NotCompleted(id, result.Status, target));
                        return;
                    }

                    var parent = System.IO.Path.GetDirectoryName(destination);
                    if (!string.IsNullOrEmpty(parent))
                    {
                        System.IO.Directory.CreateDirectory(parent);
                    }

                    var saved = await Client.DownloadOutputAsync(result, destination, overwrite, cancellation).ConfigureAwait(false);
                    if (saved.Skipped)
                    {
                        sink.WriteVerbose("Kept the complete file already at '" + saved.Path + "' (use -Force to download again).");
                    }

                    output.OutputFile = saved.Path;
                    sink.WriteObject(output);
                }
                catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException)
                {
                    sink.WriteError(ErrorMapper.ToErrorRecord(ex, target));
                }
                finally
                {
                    _downloads.Release();
                }
            });
        }

        /// <summary>A copy to fill in, so the caller's object is not changed behind its back.</summary>
        private static WanAnimateResult Clone(WanAnimateResult source)
        {
            return new WanAnimateResult
            {
                RequestId = source.RequestId,
                Status = source.Status,
                Output = source.Output,
                OutputFile = source.OutputFile,
                ResponseUrl = source.ResponseUrl,
                InferenceTime = source.InferenceTime,
                Cost = source.Cost,
                Metrics = source.Metrics == null ? new System.Collections.Hashtable() : (System.Collections.Hashtable)source.Metrics.Clone(),
                SubmittedAt = source.SubmittedAt,
                CompletedAt = source.CompletedAt,
                Duration = source.Duration,
                InputVideo = source.InputVideo,
                ReferenceImage = source.ReferenceImage,
                Prompt = source.Prompt,
                Mode = source.Mode,
                Resolution = source.Resolution,
                Seed = source.Seed,
                RowId = source.RowId,
                Row = source.Row,
            };
        }
    }
}

using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using Segmind.Client;
using Segmind.WanAnimate.Infrastructure;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Submit, wait and (optionally) save in one call, for one input or a piped batch; each result is written as
    /// soon as its job completes. -NoWait stops after the submit and returns the jobs.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "WanAnimate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = WaitSet)]
    [OutputType(typeof(WanAnimateResult), ParameterSetName = new[] { WaitSet, OutputDirectorySet, OutFileSet })]
    [OutputType(typeof(WanAnimateJob), ParameterSetName = new[] { NoWaitSet })]
    public sealed class InvokeWanAnimateCommand : WanAnimateInputCmdletBase
    {
        private const string WaitSet = "Wait";
        private const string OutputDirectorySet = "OutputDirectory";
        private const string OutFileSet = "OutFile";
        private const string NoWaitSet = "NoWait";

        private readonly WaitProgress _progress = new WaitProgress(WaitWanAnimateJobCommand.ProgressActivityId);
        private int _inputs;

        /// <summary>Save each output as &lt;RequestId&gt;.mp4 in this folder (created when missing).</summary>
        [Parameter(Mandatory = true, ParameterSetName = OutputDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? OutputDirectory { get; set; }

        /// <summary>Save the output to exactly this file (overwritten); only for a single input.</summary>
        [Parameter(Mandatory = true, ParameterSetName = OutFileSet)]
        [ValidateNotNullOrEmpty]
        public string? OutFile { get; set; }

        /// <summary>Return the submitted jobs without waiting for them.</summary>
        [Parameter(Mandatory = true, ParameterSetName = NoWaitSet)]
        public SwitchParameter NoWait { get; set; }

        [Parameter(ParameterSetName = WaitSet)]
        [Parameter(ParameterSetName = OutputDirectorySet)]
        [Parameter(ParameterSetName = OutFileSet)]
        [SecondsTimeSpanTransformation]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(1);

        [Parameter(ParameterSetName = WaitSet)]
        [Parameter(ParameterSetName = OutputDirectorySet)]
        [Parameter(ParameterSetName = OutFileSet)]
        [SecondsTimeSpanTransformation]
        public TimeSpan? PollInterval { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected override bool RunAsJob => AsJob.IsPresent;

        protected override void ValidateParameters()
        {
            base.ValidateParameters();
            WaitParameters.Validate(this, Timeout, PollInterval);
        }

        internal override void ConfigureClient(SegmindClientOptions options)
        {
            base.ConfigureClient(options);
            WaitParameters.Apply(options, PollInterval);
        }

        protected override void ProcessInput()
        {
            if (!TryPrepareRow(out var row))
            {
                return;
            }

            _inputs++;
            if (OutFile != null && _inputs > 1)
            {
                WriteError(ErrorMapper.InvalidArgument(
                    "OutFile",
                    string.Format(CultureInfo.InvariantCulture, "Row {0}: -OutFile takes a single input; use -OutputDirectory for a batch. Nothing was sent for this row.", row.Row),
                    row.Target));
                return;
            }

            var destinationFile = OutFile != null ? ResolvePath(OutFile) : null;
            var destinationDirectory = OutputDirectory != null ? ResolvePath(OutputDirectory) : null;
            var action = NoWait ? "Submit a paid Wan Animate job" : "Submit a paid Wan Animate job and wait for its video";
            if (!ShouldProcess(row.Description, action))
            {
                return;
            }

            var noWait = NoWait.IsPresent;
            var timeout = Timeout;
            Dispatch(async (sink, cancellation) =>
            {
                var job = await SubmitAsync(row, sink, cancellation).ConfigureAwait(false);
                if (job == null)
                {
                    return;
                }

                if (noWait)
                {
                    sink.WriteObject(job);
                    return;
                }

                var reference = new JobReference(job.RequestId, JobAddress.Parse(job.StatusUrl), JobAddress.Parse(job.ResponseUrl));
                var result = await JobWaiter.WaitAsync(Client, reference, timeout, _progress, row.Target, row.Row, sink, cancellation).ConfigureAwait(false);
                if (result == null)
                {
                    return;
                }

                var output = ModelFactory.ToResult(result, JobInputs.From(job), job.ResponseUrl);
                if (destinationFile != null || destinationDirectory != null)
                {
                    try
                    {
                        string path;
                        if (destinationFile != null)
                        {
                            path = destinationFile;
                            var parent = Path.GetDirectoryName(path);
                            if (!string.IsNullOrEmpty(parent))
                            {
                                Directory.CreateDirectory(parent);
                            }
                        }
                        else
                        {
                            Directory.CreateDirectory(destinationDirectory!);
                            path = Path.Combine(destinationDirectory!, OutputFileName.For(result.RequestId));
                        }

                        // -OutFile names one file on purpose, so a previous run's video there is replaced.
                        var saved = await Client.DownloadOutputAsync(result, path, overwrite: destinationFile != null, cancellation).ConfigureAwait(false);
                        output.OutputFile = saved.Path;
                    }
                    catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException)
                    {
                        var record = ErrorMapper.ToErrorRecord(ex, row.Target, row.Row);
                        record.ErrorDetails.RecommendedAction =
                            "Job " + result.RequestId + " completed; save it with 'Save-WanAnimateOutput -RequestId " + result.RequestId + "' within the hour Segmind keeps results.";
                        sink.WriteError(record);
                        return;
                    }
                }

                sink.WriteObject(output);
            });
        }

        internal override void OnAllWorkDone(IOperationSink sink) => _progress.Finish(sink);
    }
}

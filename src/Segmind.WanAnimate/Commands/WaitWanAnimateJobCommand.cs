using System;
using System.Management.Automation;
using System.Threading;
using Segmind.Client;
using Segmind.WanAnimate.Infrastructure;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Waits for jobs to finish, all piped jobs at once, and writes each result the moment its job completes.
    /// FAILED jobs and timeouts are non-terminating errors; a timed-out job keeps running at Segmind.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "WanAnimateJob")]
    [OutputType(typeof(WanAnimateResult))]
    public sealed class WaitWanAnimateJobCommand : SegmindCmdletBase
    {
        internal const int ProgressActivityId = 0x5E6D;

        private readonly WaitProgress _progress = new WaitProgress(ProgressActivityId);

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("request_id", "Id")]
        [ValidateNotNullOrEmpty]
        public string[] RequestId { get; set; } = Array.Empty<string>();

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("status_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? StatusUrl { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("response_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? ResponseUrl { get; set; }

        /// <summary>How long to wait for each job (a number means seconds). The job itself is not affected.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(1);

        /// <summary>A fixed delay between status checks; without it, checks back off from 2 to 12 seconds.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan? PollInterval { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        /// <summary>The piped job itself: its inputs are carried into the result and errors point at it.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        protected override bool RunAsJob => AsJob.IsPresent;

        protected override void ValidateParameters() => WaitParameters.Validate(this, Timeout, PollInterval);

        internal override void ConfigureClient(SegmindClientOptions options) => WaitParameters.Apply(options, PollInterval);

        protected override void ProcessInput()
        {
            var single = RequestId.Length == 1;
            var statusUrl = single ? JobAddress.Parse(StatusUrl) : null;
            var responseUrl = single ? JobAddress.Parse(ResponseUrl) : null;
            var inputs = single ? JobInputs.FromPipelineObject(InputObject) : null;
            var timeout = Timeout;
            foreach (var id in RequestId)
            {
                if (string.IsNullOrWhiteSpace(id))
                {
                    continue;
                }

                var reference = new JobReference(id, statusUrl, responseUrl);
                var target = JobAddress.TargetOf(InputObject, id);
                Dispatch(async (sink, cancellation) =>
                {
                    var result = await JobWaiter.WaitAsync(Client, reference, timeout, _progress, target, null, sink, cancellation).ConfigureAwait(false);
                    if (result != null)
                    {
                        sink.WriteObject(ModelFactory.ToResult(result, inputs, responseUrl?.AbsoluteUri ?? reference.ResponseUrl?.AbsoluteUri));
                    }
                });
            }
        }

        internal override void OnAllWorkDone(IOperationSink sink) => _progress.Finish(sink);
    }
}

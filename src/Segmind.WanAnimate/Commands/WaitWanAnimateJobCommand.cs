using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Waits for jobs to finish, all piped jobs at once, and writes each result the moment its job completes.
    /// FAILED jobs and timeouts are non-terminating errors; a timed-out job keeps running at Segmind.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "WanAnimateJob", DefaultParameterSetName = FromJournalSet)]
    [OutputType(typeof(WanAnimateResult))]
    public sealed class WaitWanAnimateJobCommand : BatchCmdletBase
    {
        internal const int ProgressActivityId = 0x5E6D;

        private const string ByRequestIdSet = "ByRequestId";
        private const string FromJournalSet = "FromJournal";

        private readonly WaitProgress _progress = new WaitProgress(ProgressActivityId);

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByRequestIdSet)]
        [Alias("request_id", "Id")]
        [ValidateNotNullOrEmpty]
        public string[] RequestId { get; set; } = Array.Empty<string>();

        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByRequestIdSet)]
        [Alias("status_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? StatusUrl { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = ByRequestIdSet)]
        [Alias("response_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? ResponseUrl { get; set; }

        /// <summary>
        /// The batch journal: each outcome is recorded in it. Without piped input, every job the journal lists as
        /// submitted and not yet ended is waited for.
        /// </summary>
        [Parameter(ParameterSetName = ByRequestIdSet)]
        [Parameter(ParameterSetName = FromJournalSet)]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>
        /// For a -JournalPath that is an Azure table address: a SAS token or storage connection string (a SecureString,
        /// or a plain string converted at binding). Falls back to $env:SEGMIND_JOURNAL_SAS, then $env:SEGMIND_JOURNAL_CONNECTION_STRING.
        /// </summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? JournalCredential { get; set; }

        /// <summary>How long to wait for each job (a number means seconds). The job itself is not affected.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(1);

        /// <summary>A fixed delay between status checks; without it, checks back off from 2 to 13 seconds.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan? PollInterval { get; set; }

        /// <summary>How long Segmind keeps a job after submission (a number means seconds); default SEGMIND_RETENTION, else 1 hour.</summary>
        [Parameter]
        [SecondsTimeSpanTransformation]
        public TimeSpan? Retention { get; set; }

        /// <summary>The piped job itself: its inputs are carried into the result and errors point at it.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true, ParameterSetName = ByRequestIdSet)]
        public PSObject? InputObject { get; set; }

        internal override string? JournalPathArgument => JournalPath;

        internal override SecureString? JournalCredentialArgument => JournalCredential;

        protected override void ValidateParameters()
        {
            WaitParameters.Validate(this, Timeout, PollInterval);

            // Never a prompt (a runbook would hang): without input there is nothing to wait for, so say what is needed.
            if (ParameterSetName == FromJournalSet && JournalPath == null && !MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("JournalPath", NoInputMessage, null));
            }
        }

        private const string NoInputMessage =
            "Wait-WanAnimateJob has nothing to wait for: pipe job objects (from New-WanAnimateJob, or Import-Csv of exported jobs), or pass -RequestId or -JournalPath.";

        internal override void ConfigureClient(SegmindClientOptions options)
        {
            options.Retention = Retention;
            WaitParameters.Apply(options, PollInterval);
            ConfigurePacing(options);
        }

        protected override void ProcessInput()
        {
            if (ParameterSetName == FromJournalSet)
            {
                if (Journal == null)
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("JournalPath", NoInputMessage, null));
                    return;
                }

                WaitForJournal();
                return;
            }

            var single = RequestId.Length == 1;

            // Addresses are kept as text until each request: a wait over thousands of jobs holds as little per job as it can.
            var statusUrl = single ? JobAddress.ParseText(StatusUrl) : null;
            var responseUrl = single ? JobAddress.ParseText(ResponseUrl) : null;
            var inputs = single ? JobInputs.FromPipelineObject(InputObject) : null;
            foreach (var id in RequestId)
            {
                if (string.IsNullOrWhiteSpace(id))
                {
                    continue;
                }

                var reference = JobReference.FromUrlText(id, statusUrl, responseUrl);
                var target = JobAddress.TargetOf(InputObject, id);
                Dispatch(new WaitWork(this, reference, target, inputs).RunAsync);
            }
        }

        /// <summary>Resumes a batch from its journal alone: waits for every job submitted and not yet ended.</summary>
        private void WaitForJournal()
        {
            var journal = Journal!;
            var state = ReadJournalState();

            foreach (var unknown in state.UnknownRows)
            {
                WriteWarning(unknown.ResolutionHint ?? ("Row '" + unknown.RowId + "': its submit outcome is unknown."));
            }

            var pending = state.PendingRows.OrderBy(r => r.SubmittedAt ?? DateTimeOffset.MaxValue).ToList();
            VerboseLines.Write(this, string.Format(CultureInfo.InvariantCulture, "The journal lists {0} job(s) still to wait for.", pending.Count));
            var timeout = Timeout;
            foreach (var row in pending)
            {
                var reference = row.ToJobReference();
                if (reference == null)
                {
                    continue;
                }

                var inputs = new JobInputs { RowId = row.RowId, SubmittedAt = row.SubmittedAt };
                Dispatch(async (sink, cancellation) =>
                {
                    var result = await JobWaiter.WaitAsync(Client, reference, timeout, _progress, reference.RequestId, null, sink, cancellation, journal, row.RowId).ConfigureAwait(false);
                    if (result != null)
                    {
                        sink.WriteObject(ModelFactory.ToResult(result, inputs, reference.ResponseUrl?.AbsoluteUri));
                    }
                });
            }
        }

        internal override void OnAllWorkDone(IOperationSink sink) => _progress.Finish(sink);

        /// <summary>One piped job's wait: what it needs and nothing else, in one object rather than a closure over the cmdlet's locals.</summary>
        private sealed class WaitWork
        {
            private readonly WaitWanAnimateJobCommand _command;
            private readonly JobReference _reference;
            private readonly object _target;
            private readonly JobInputs? _inputs;

            public WaitWork(WaitWanAnimateJobCommand command, JobReference reference, object target, JobInputs? inputs)
            {
                _command = command;
                _reference = reference;
                _target = target;
                _inputs = inputs;
            }

            public async Task RunAsync(IOperationSink sink, CancellationToken cancellation)
            {
                var command = _command;
                var result = await JobWaiter.WaitAsync(command.Client, _reference, command.Timeout, command._progress, _target, null, sink, cancellation, command.Journal).ConfigureAwait(false);
                if (result != null)
                {
                    sink.WriteObject(ModelFactory.ToResult(result, _inputs, _reference.ResponseUrl?.AbsoluteUri));
                }
            }
        }
    }
}

using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;
using Segmind.WanAnimate.Submitting;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Submit, wait and (optionally) save in one call, for one input or a piped batch; each result is written as
    /// soon as its job completes (completion order, not input order). -NoWait stops after the submit and returns the jobs.
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
        private readonly OutputNames _names = new OutputNames();

        /// <summary>Save each output as &lt;RequestId&gt;.mp4 in this folder (created when missing).</summary>
        [Parameter(Mandatory = true, ParameterSetName = OutputDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? OutputDirectory { get; set; }

        /// <summary>
        /// Names each file in -OutputDirectory from its row: a template with {RequestId}, {RowId} (or {Id}) and {Row},
        /// as Save-WanAnimateOutput -FileName.
        /// </summary>
        [Parameter(ParameterSetName = OutputDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? FileName { get; set; }

        /// <summary>Save the output to exactly this file; only for a single input. An existing file is replaced only with -Force.</summary>
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

        /// <summary>Replace a file at the destination that is not this job's verified output (as Save-WanAnimateOutput -Force).</summary>
        [Parameter(ParameterSetName = OutputDirectorySet)]
        [Parameter(ParameterSetName = OutFileSet)]
        public SwitchParameter Force { get; set; }

        protected override void ValidateParameters()
        {
            base.ValidateParameters();
            var templateProblem = FileName == null ? null : OutputFileName.CheckTemplate(FileName);
            if (templateProblem != null)
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("FileName", templateProblem, FileName));
            }

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
                WriteError(ErrorRecordFactory.InvalidArgument(
                    "OutFile",
                    string.Format(CultureInfo.InvariantCulture, "Row {0}: -OutFile takes a single input; use -OutputDirectory for a batch. Nothing was sent for this row.", row.Row),
                    row.Target));
                return;
            }

            var plan = PlanRow(row, out var journaled);
            if (plan == RowPlan.Skip)
            {
                return;
            }

            var destinationFile = OutFile != null ? ResolvePath(OutFile) : null;
            var destinationDirectory = OutputDirectory != null ? ResolvePath(OutputDirectory) : null;

            // A name that does not depend on the request id is known now: two rows given one name are refused before either is paid for.
            if (destinationDirectory != null && FileName != null && FileName.IndexOf("{RequestId}", StringComparison.OrdinalIgnoreCase) < 0)
            {
                var name = _names.NameFor(FileName, string.Empty, row.RowId, row.Row, out var problem);
                if (name == null || !_names.Claim(Path.Combine(destinationDirectory, name), RowOwner(row), out problem))
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("FileName", "Row " + row.Row.ToString(CultureInfo.InvariantCulture) + ": " + problem + " Nothing was sent for this row.", row.Target));
                    return;
                }
            }
            var noWait = NoWait.IsPresent;
            var timeout = Timeout;
            var journal = Journal;
            if (plan == RowPlan.Resume)
            {
                var known = journaled!;
                var action = noWait ? "Return the job already submitted as " + known.RequestId : "Resume the job already submitted as " + known.RequestId + " (not re-sent)";
                if (!ShouldProcess(row.Description, action))
                {
                    return;
                }

                Dispatch((sink, cancellation) => ResumeAsync(row, known, noWait, timeout, destinationFile, destinationDirectory, journal, sink, cancellation));
                return;
            }

            // A new job's output can only be unrelated to a file already at -OutFile: refuse before paying for it.
            if (destinationFile != null && File.Exists(destinationFile) && !Force.IsPresent)
            {
                var exists = new SegmindOutputFileExistsException(
                    "'" + destinationFile + "' already exists; nothing was sent for this row.", destinationFile, null);
                WriteError(ErrorRecordFactory.ToErrorRecord(exists, row.Target, row.Row));
                return;
            }

            var submitAction = noWait ? "Submit a paid Wan Animate job" : "Submit a paid Wan Animate job and wait for its video";
            if (!ShouldProcess(row.Description, submitAction))
            {
                return;
            }

            plan = ClaimRow(row, out journaled);
            if (plan == RowPlan.Skip)
            {
                return;
            }

            if (plan == RowPlan.Resume)
            {
                // Another run submitted it between the plan and the claim: follow that job.
                var taken = journaled!;
                Dispatch((sink, cancellation) => ResumeAsync(row, taken, noWait, timeout, destinationFile, destinationDirectory, journal, sink, cancellation));
                return;
            }

            Dispatch(async (sink, cancellation) =>
            {
                var job = await SubmitAsync(row, sink, cancellation).ConfigureAwait(false);
                if (job == null)
                {
                    return;
                }

                if (noWait)
                {
                    sink.WriteObject(job, PaidJobs.WhenWritten(job.RequestId));
                    return;
                }

                var reference = new JobReference(job.RequestId, JobAddress.Parse(job.StatusUrl), JobAddress.Parse(job.ResponseUrl));
                var result = await JobWaiter.WaitAsync(Client, reference, timeout, _progress, row.Target, row.Row, sink, cancellation, journal, row.RowId).ConfigureAwait(false);
                if (result != null)
                {
                    await SaveAndWriteAsync(row, job, result, destinationFile, destinationDirectory, journal, sink, cancellation).ConfigureAwait(false);
                }
            });
        }

        /// <summary>A row the journal says was submitted: never sent again; picked up where the last run left it.</summary>
        private async Task ResumeAsync(
            PreparedRow row,
            JournalRow known,
            bool noWait,
            TimeSpan timeout,
            string? destinationFile,
            string? destinationDirectory,
            BatchJournal? journal,
            IOperationSink sink,
            CancellationToken cancellation)
        {
            var job = RebuildJob(row, known);
            if (noWait)
            {
                sink.WriteObject(job);
                return;
            }

            if (known.Phase == JournalRowPhase.Failed)
            {
                sink.WriteError(JournalAccess.FailedEarlier(known, row.Row, row.Target));
                return;
            }

            if (known.Phase == JournalRowPhase.Saved && (JournalAccess.SavedFileIsIntact(known) || JournalAccess.ResultExpired(known, Client.Retention)))
            {
                WriteSavedEarlier(row, job, known, sink);
                return;
            }

            var reference = known.ToJobReference()!;
            JobResult? result;
            if (known.Phase == JournalRowPhase.Completed || known.Phase == JournalRowPhase.Saved)
            {
                // It completed in an earlier run but its video is not on disk: fetch the result again (kept for an hour).
                try
                {
                    result = await Client.GetResultAsync(reference, cancellation).ConfigureAwait(false);
                }
                catch (SegmindNotFoundException) when (known.Phase == JournalRowPhase.Saved)
                {
                    WriteSavedEarlier(row, job, known, sink);
                    return;
                }
                catch (SegmindException ex)
                {
                    if (ex is SegmindNotFoundException)
                    {
                        LedgerAccess.RecordExpired(sink, known.RequestId ?? string.Empty);
                    }

                    sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, row.Target, row.Row));
                    return;
                }

                if (result.Status == Segmind.Client.JobState.Failed)
                {
                    sink.WriteError(ErrorRecordFactory.ToErrorRecord(new SegmindJobFailedException("Job " + result.RequestId + " FAILED.", result.RequestId, result.Error), row.Target, row.Row));
                    return;
                }

                if (result.Status != Segmind.Client.JobState.Completed || result.OutputKind == OutputKind.None)
                {
                    sink.WriteError(ErrorRecordFactory.NotCompleted(result.RequestId, result.Status, row.Target));
                    return;
                }
            }
            else
            {
                result = await JobWaiter.WaitAsync(Client, reference, timeout, _progress, row.Target, row.Row, sink, cancellation, journal, row.RowId).ConfigureAwait(false);
                if (result == null)
                {
                    return;
                }
            }

            await SaveAndWriteAsync(row, job, result, destinationFile, destinationDirectory, journal, sink, cancellation).ConfigureAwait(false);
        }

        /// <summary>
        /// A row the journal records as saved: written from the journal. Its file may be gone with the machine it was
        /// saved on (a restarted runbook sandbox); once Segmind no longer keeps the result there is nothing to fetch.
        /// </summary>
        private static void WriteSavedEarlier(PreparedRow row, WanAnimateJob job, JournalRow known, IOperationSink sink)
        {
            var saved = JournalAccess.ToResult(known);
            JobInputs.From(job).ApplyTo(saved);
            saved.OutputFile = known.SavedPath;
            sink.WriteVerbose(JournalAccess.SavedFileIsIntact(known)
                ? string.Format(CultureInfo.InvariantCulture, "Row {0} ({1}): already saved to '{2}'.", row.Row, row.RowId, known.SavedPath)
                : string.Format(CultureInfo.InvariantCulture, "Row {0} ({1}): saved earlier to '{2}', which is not on this machine; Segmind no longer keeps the result, so it is not fetched again.", row.Row, row.RowId, known.SavedPath));
            sink.WriteObject(saved);
        }

        private async Task SaveAndWriteAsync(
            PreparedRow row,
            WanAnimateJob job,
            JobResult result,
            string? destinationFile,
            string? destinationDirectory,
            BatchJournal? journal,
            IOperationSink sink,
            CancellationToken cancellation)
        {
            var output = ModelFactory.ToResult(result, JobInputs.From(job), job.ResponseUrl);

            // A text output is decoded as base64 only when this row asked for base64.
            result.Base64Requested = row.Request.Base64;
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
                        var name = _names.NameFor(FileName, result.RequestId, row.RowId, row.Row, out var problem);
                        if (name == null || !_names.Claim(Path.Combine(destinationDirectory!, name), RowOwner(row), out problem))
                        {
                            sink.WriteError(ErrorRecordFactory.InvalidArgument("FileName", problem!, row.Target));
                            return;
                        }

                        Directory.CreateDirectory(destinationDirectory!);
                        path = Path.Combine(destinationDirectory!, name);
                    }

                    // The same rule as Save-WanAnimateOutput: this job's verified file is kept, a damaged copy replaced,
                    // anything else replaced only with -Force.
                    var saved = await Client.DownloadOutputAsync(result, path, overwrite: Force.IsPresent, cancellation).ConfigureAwait(false);
                    output.OutputFile = saved.Path;
                    LedgerAccess.RecordSaved(sink, result.RequestId, saved.Path);
                    if (journal != null)
                    {
                        JournalAccess.RecordAfter(sink, () => journal.RecordSaved(row.RowId, result.RequestId, saved.Path, saved.Length), "job " + result.RequestId + " was saved");
                    }
                }
                catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException)
                {
                    var record = ErrorRecordFactory.ToErrorRecord(ex, row.Target, row.Row);
                    record.ErrorDetails.RecommendedAction =
                        "Job " + result.RequestId + " completed; save it with 'Save-WanAnimateOutput -RequestId " + result.RequestId + "' within the hour Segmind keeps results"
                        + (journal == null ? "." : ", or run the batch again with the same -JournalPath.");
                    sink.WriteError(record);
                    return;
                }
            }

            sink.WriteObject(output, PaidJobs.WhenWritten(result.RequestId));
        }

        private static string RowOwner(PreparedRow row) => "row " + row.Row.ToString(CultureInfo.InvariantCulture) + " (" + row.RowId + ")";

        internal override void OnAllWorkDone(IOperationSink sink)
        {
            base.OnAllWorkDone(sink);
            _progress.Finish(sink);
        }
    }
}

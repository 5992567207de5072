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
using Segmind.WanAnimate.Journal;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;
using Segmind.WanAnimate.Submitting;
using JobState = Segmind.Client.JobState;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Saves job outputs as video files: each as &lt;RequestId&gt;.mp4 in -Directory, or one to -Path. A complete file
    /// already there is kept unless -Force. Writes the result with OutputFile set.
    /// </summary>
    [Cmdlet(VerbsData.Save, "WanAnimateOutput", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = JournalToDirectorySet)]
    [OutputType(typeof(WanAnimateResult))]
    public sealed class SaveWanAnimateOutputCommand : BatchCmdletBase
    {
        private const string ResultToDirectorySet = "ResultToDirectory";
        private const string ResultToPathSet = "ResultToPath";
        private const string IdToDirectorySet = "ByIdToDirectory";
        private const string IdToPathSet = "ByIdToPath";
        private const string JournalToDirectorySet = "JournalToDirectory";

        /// <summary>Downloads at once by default: enough to overlap, few enough not to saturate a runbook's bandwidth.</summary>
        private const int ConcurrentDownloads = 4;

        private SemaphoreSlim _downloads = new SemaphoreSlim(ConcurrentDownloads, ConcurrentDownloads);
        private RecordedRows? _recorded;
        private readonly OutputNames _names = new OutputNames();
        private int _inputs;

        /// <summary>
        /// A result (from Wait-WanAnimateJob), a job, a request id, or a CSV row of exported jobs or results: its
        /// RequestId says what to save and its other columns (RowId, Row, SubmittedAt, inputs) are kept in the result.
        /// </summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ResultToDirectorySet)]
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ResultToPathSet)]
        public PSObject? InputObject { get; set; }

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
        [Parameter(Mandatory = true, ParameterSetName = JournalToDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? Directory { get; set; }

        /// <summary>
        /// Names each file in -Directory from its row: a template with {RequestId}, {RowId} (or {Id}) and {Row}, e.g.
        /// '{RowId}.mp4'. Values are made safe, the file stays inside the folder, and two inputs given one name are refused.
        /// </summary>
        [Parameter(ParameterSetName = ResultToDirectorySet)]
        [Parameter(ParameterSetName = IdToDirectorySet)]
        [Parameter(ParameterSetName = JournalToDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? FileName { get; set; }

        /// <summary>The exact file to write; only for a single input.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ResultToPathSet)]
        [Parameter(Mandatory = true, ParameterSetName = IdToPathSet)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>
        /// The batch journal: each save is recorded in it. Without piped input (with -Directory), every job the journal
        /// lists as completed and not yet saved is saved.
        /// </summary>
        [Parameter(ParameterSetName = ResultToDirectorySet)]
        [Parameter(ParameterSetName = ResultToPathSet)]
        [Parameter(ParameterSetName = IdToDirectorySet)]
        [Parameter(ParameterSetName = IdToPathSet)]
        [Parameter(ParameterSetName = JournalToDirectorySet)]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>
        /// For a -JournalPath that is an Azure table address: a SAS token or storage connection string (a SecureString,
        /// or a plain string converted at binding). Falls back to $env:SEGMIND_JOURNAL_SAS, then $env:SEGMIND_JOURNAL_CONNECTION_STRING.
        /// </summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? JournalCredential { get; set; }

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>The journal's and the ledger's rows, read once when an input first needs them.</summary>
        private RecordedRows Recorded => _recorded ??= new RecordedRows(Journal);

        internal override string? JournalPathArgument => JournalPath;

        internal override SecureString? JournalCredentialArgument => JournalCredential;

        internal override void ConfigureClient(SegmindClientOptions options)
        {
            _downloads = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);
            ConfigurePacing(options);
        }

        private const string NoInputMessage =
            "Save-WanAnimateOutput has nothing to save: pipe results (from Wait-WanAnimateJob) or jobs, or pass -RequestId or -JournalPath.";

        // Never a prompt (a runbook would hang): without input there is nothing to save, so say what is needed.
        protected override void ValidateParameters()
        {
            var templateProblem = FileName == null ? null : OutputFileName.CheckTemplate(FileName);
            if (templateProblem != null)
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("FileName", templateProblem, FileName));
            }

            if (ParameterSetName == JournalToDirectorySet && JournalPath == null && !MyInvocation.ExpectingInput)
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("JournalPath", NoInputMessage, null));
            }
        }

        protected override void ProcessInput()
        {
            if (ParameterSetName == JournalToDirectorySet)
            {
                if (Journal == null)
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("JournalPath", NoInputMessage, null));
                    return;
                }

                SaveFromJournal();
                return;
            }

            var pipedObject = InputObject;
            var piped = pipedObject?.BaseObject as WanAnimateResult;
            var requestId = piped?.RequestId ?? PipedText(pipedObject, "RequestId", "request_id") ?? RequestId;
            object target = (object?)pipedObject ?? requestId ?? string.Empty;
            if (string.IsNullOrWhiteSpace(requestId))
            {
                WriteError(ErrorRecordFactory.InvalidArgument("RequestId", "The input has no RequestId: nothing to save.", target));
                return;
            }

            _inputs++;
            if (Path != null && _inputs > 1)
            {
                WriteError(ErrorRecordFactory.InvalidArgument(
                    "Path",
                    string.Format(CultureInfo.InvariantCulture, "-Path names a single file but input {0} ({1}) arrived; use -Directory for several results.", _inputs, requestId),
                    target));
                return;
            }

            // Only a request id (or an object without its row): the journal or the ledger may know the row it was for.
            var named = JobInputs.FromPipelineObject(pipedObject);
            var recorded = named?.RowId == null ? Recorded.Find(requestId!.Trim()) : null;
            named = RecordedRows.Fill(named, recorded);
            string destination;
            try
            {
                var name = _names.NameFor(FileName, requestId!.Trim(), named?.RowId, named?.Row, out var problem);
                if (name == null)
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("FileName", problem!, target));
                    return;
                }

                destination = Path != null ? ResolvePath(Path) : System.IO.Path.Combine(ResolvePath(Directory!), name);
            }
            catch (ArgumentException ex)
            {
                WriteError(ErrorRecordFactory.InvalidArgument("RequestId", ex.Message, target));
                return;
            }

            if (Path == null && !_names.Claim(destination, "job " + requestId!.Trim(), out var collision))
            {
                WriteError(ErrorRecordFactory.InvalidArgument("FileName", collision!, target));
                return;
            }

            if (!ShouldProcess(destination, "Save the output of Wan Animate job " + requestId))
            {
                return;
            }

            var id = requestId!.Trim();
            var responseUrl = JobAddress.Parse(piped?.ResponseUrl ?? PipedText(pipedObject, "ResponseUrl", "response_url") ?? ResponseUrl);
            var overwrite = Force.IsPresent;
            var known = piped == null ? null : Clone(piped);
            if (known != null && recorded != null)
            {
                RecordedRows.Fill(JobInputs.FromPipelineObject(PSObject.AsPSObject(known)), recorded)!.ApplyTo(known);
            }

            // A job or an exported CSV row: what it knows (row, inputs, submit time), and what was recorded for it, goes into the result.
            var rowInputs = piped == null ? named : null;
            var journal = Journal;
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
                        result = await FetchResultAsync(new JobReference(id, null, responseUrl), sink, cancellation).ConfigureAwait(false);
                        output = ModelFactory.ToResult(result, known == null ? rowInputs : JobInputs.FromPipelineObject(PSObject.AsPSObject(known)), responseUrl?.AbsoluteUri, completionSeen: false);
                    }

                    if (!IsSavable(result, target, sink))
                    {
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
                    LedgerAccess.RecordSaved(sink, id, saved.Path);
                    if (journal != null)
                    {
                        JournalAccess.RecordAfter(sink, () => journal.RecordSaved(null, id, saved.Path, saved.Length), "job " + id + " was saved");
                    }

                    sink.WriteObject(output);
                }
                catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException)
                {
                    sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, target));
                }
                finally
                {
                    _downloads.Release();
                }
            });
        }

        /// <summary>Saves every job the journal lists as completed whose video is not on disk yet, fetching each result again.</summary>
        private void SaveFromJournal()
        {
            var journal = Journal!;
            var state = ReadJournalState();

            string directory;
            try
            {
                directory = ResolvePath(Directory!);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is ItemNotFoundException || ex is ProviderNotFoundException
                || ex is System.Management.Automation.DriveNotFoundException || ex is PSInvalidOperationException)
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("Directory", ex.Message, Directory));
                return;
            }

            var rows = state.Rows.Values
                .Where(r => r.RequestId != null
                    && (r.Phase == JournalRowPhase.Completed || (r.Phase == JournalRowPhase.Saved && (Force.IsPresent || !JournalAccess.SavedFileIsIntact(r)))))
                .OrderBy(r => r.SubmittedAt ?? DateTimeOffset.MaxValue)
                .ToList();
            var running = state.PendingRows.Count;
            if (running > 0)
            {
                WriteWarning(string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} job(s) in the journal have not completed yet; run 'Wait-WanAnimateJob -JournalPath' first to wait for them.",
                    running));
            }

            VerboseLines.Write(this, string.Format(CultureInfo.InvariantCulture, "The journal lists {0} completed job(s) to save.", rows.Count));
            var overwrite = Force.IsPresent;
            foreach (var row in rows)
            {
                var id = row.RequestId!;
                string destination;
                try
                {
                    var name = _names.NameFor(FileName, id, row.RowId, null, out var problem);
                    if (name == null)
                    {
                        WriteError(ErrorRecordFactory.InvalidArgument("FileName", problem!, id));
                        continue;
                    }

                    destination = System.IO.Path.Combine(directory, name);
                }
                catch (ArgumentException ex)
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("RequestId", ex.Message, id));
                    continue;
                }

                if (!_names.Claim(destination, "job " + id, out var collision))
                {
                    WriteError(ErrorRecordFactory.InvalidArgument("FileName", collision!, id));
                    continue;
                }

                if (!ShouldProcess(destination, "Save the output of Wan Animate job " + id))
                {
                    continue;
                }

                var reference = row.ToJobReference()!;
                var rowId = row.RowId;
                Dispatch(async (sink, cancellation) =>
                {
                    await _downloads.WaitAsync(cancellation).ConfigureAwait(false);
                    try
                    {
                        // Output URLs may be short-lived: fetch the result again rather than trust a recorded one.
                        var result = await FetchResultAsync(reference, sink, cancellation).ConfigureAwait(false);
                        if (!IsSavable(result, id, sink))
                        {
                            return;
                        }

                        System.IO.Directory.CreateDirectory(directory);
                        var saved = await Client.DownloadOutputAsync(result, destination, overwrite, cancellation).ConfigureAwait(false);
                        LedgerAccess.RecordSaved(sink, id, saved.Path);
                        JournalAccess.RecordAfter(sink, () => journal.RecordSaved(rowId, id, saved.Path, saved.Length), "job " + id + " was saved");
                        var output = ModelFactory.ToResult(result, new JobInputs { RowId = rowId, SubmittedAt = row.SubmittedAt }, reference.ResponseUrl?.AbsoluteUri, completionSeen: false);
                        output.OutputFile = saved.Path;
                        sink.WriteObject(output);
                    }
                    catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException)
                    {
                        sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, id));
                    }
                    finally
                    {
                        _downloads.Release();
                    }
                });
            }
        }

        /// <summary>The job's result; a 404 (the result expired, or the id is unknown) is also recorded in the ledger.</summary>
        private async Task<JobResult> FetchResultAsync(JobReference reference, IOperationSink sink, CancellationToken cancellation)
        {
            try
            {
                return await Client.GetResultAsync(reference, cancellation).ConfigureAwait(false);
            }
            catch (SegmindNotFoundException)
            {
                LedgerAccess.RecordExpired(sink, reference.RequestId);
                throw;
            }
        }

        /// <summary>A piped object's text property (a string itself is the request id); null when absent or empty.</summary>
        private static string? PipedText(PSObject? input, params string[] names)
        {
            if (input == null)
            {
                return null;
            }

            if (input.BaseObject is string text)
            {
                return names[0] == "RequestId" && !string.IsNullOrWhiteSpace(text) ? text : null;
            }

            foreach (var name in names)
            {
                var property = input.Properties[name];
                if (property == null)
                {
                    continue;
                }

                try
                {
                    var value = Convert.ToString(property.Value, CultureInfo.InvariantCulture);
                    if (!string.IsNullOrWhiteSpace(value))
                    {
                        return value;
                    }
                }
                catch (GetValueException)
                {
                }
            }

            return null;
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
                Cost = source.Cost,
                InferenceTime = source.InferenceTime,
                QueueTime = source.QueueTime,
                Metrics = new MetricTable(source.Metrics),
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

        /// <summary>A FAILED job throws (mapped to WanAnimate.JobFailed); an unfinished or empty one gets its own error.</summary>
        private static bool IsSavable(JobResult result, object target, IOperationSink sink)
        {
            if (result.Status == JobState.Failed)
            {
                throw new SegmindJobFailedException("Job " + result.RequestId + " FAILED.", result.RequestId, result.Error);
            }

            if (result.Status != JobState.Completed)
            {
                sink.WriteError(ErrorRecordFactory.NotCompleted(result.RequestId, result.Status, target));
                return false;
            }

            if (result.OutputKind == OutputKind.None)
            {
                sink.WriteError(ErrorRecordFactory.NoOutput(result.RequestId, target));
                return false;
            }

            return true;
        }
    }
}

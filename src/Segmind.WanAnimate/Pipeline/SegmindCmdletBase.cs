using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// What every cmdlet shares: -ApiKey and -BaseUri, the client, and running asynchronous work either pumped back
    /// to the pipeline thread or inside an -AsJob job. Derived cmdlets only describe their work per input.
    /// </summary>
    public abstract class SegmindCmdletBase : PSCmdlet, IDisposable
    {
        // How long the balance quoted in a 406 stop's one error may take to read.
        private static readonly TimeSpan CreditsReadBound = TimeSpan.FromSeconds(30);

        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private readonly BatchStopReporter _batchStop = new BatchStopReporter();
        private PipelinePump? _pump;
        private List<Func<IOperationSink, CancellationToken, Task>>? _jobWork;
        private SegmindClient? _client;
        private BatchJournal? _journal;
        private bool _disposed;
        private bool _clientOwnedByJob;
        private bool _abandoned;

        // Where the client's warnings go (a job address on another host ignored): the pump, or the running job.
        private volatile IOperationSink? _warningSink;

        /// <summary>The Segmind API key (a SecureString, or a plain string converted at binding). Falls back to $env:SEGMIND_API_KEY.</summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>The API's base address. Falls back to $env:SEGMIND_BASE_URL, then https://api.segmind.com.</summary>
        [Parameter]
        public Uri? BaseUri { get; set; }

        /// <summary>True when the derived cmdlet was asked for -AsJob.</summary>
        protected virtual bool RunAsJob => false;

        internal SegmindClient Client => _client ?? throw new InvalidOperationException("The client is created in BeginProcessing.");

        /// <summary>The batch journal named by -JournalPath, open from BeginProcessing; null without one.</summary>
        internal BatchJournal? Journal => _journal;

        /// <summary>The -JournalPath argument of cmdlets that have one.</summary>
        internal virtual string? JournalPathArgument => null;

        /// <summary>The -JournalCredential argument of cmdlets that have one (for a journal table).</summary>
        internal virtual SecureString? JournalCredentialArgument => null;

        protected sealed override void BeginProcessing()
        {
            var options = new SegmindClientOptions
            {
                ApiKey = ResolveApiKey(),
                BaseUri = ResolveBaseUri(),
                BatchStop = _batchStop.Stop,
                Warning = message => _warningSink?.WriteWarning(message),
            };

            // -Debug shows every HTTP exchange, -Verbose every retry and its reason; hooked only when wanted.
            if (DebugWanted())
            {
                options.Exchanged = exchange => _warningSink?.WriteDebug(HttpTrace.Describe(exchange));
            }

            if (VerboseWanted())
            {
                options.Retrying = notice => _warningSink?.WriteVerbose(HttpTrace.Describe(notice));
            }

            ValidateParameters();
            ConfigureClient(options);
            try
            {
                _client = new SegmindClient(options);
            }
            catch (SegmindException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.ToErrorRecord(ex, null));
            }

            OpenJournal();
            OnClientReady();
            if (RunAsJob)
            {
                _jobWork = new List<Func<IOperationSink, CancellationToken, Task>>();
            }
            else
            {
                _pump = new PipelinePump(_stopping.Token, VerboseWanted()) { ErrorFilter = _batchStop.Absorbs };
                _warningSink = _pump;
            }
        }

        protected sealed override void ProcessRecord()
        {
            try
            {
                // A wrong key stops the batch: the remaining rows are not even prepared.
                ThrowIfBatchStopped();
                ProcessInput();
                _pump?.DrainReady(this);
            }
            catch (Exception)
            {
                // A terminating error (-ErrorAction Stop on any row's error, a failing downstream command): what was
                // paid for is settled and named before the pipeline ends.
                Abandon();
                throw;
            }
        }

        private void ThrowIfBatchStopped()
        {
            if (_pump != null && _batchStop.FatalRecord() is ErrorRecord)
            {
                _pump.DrainReady(this);
                ThrowTerminatingError(_batchStop.FatalRecord()!);
            }
        }

        /// <summary>
        /// After all work: the one error of a 406 stop, with the balance as it is now (read within a bound on the
        /// client's clock); null without such a stop.
        /// </summary>
        private async Task<ErrorRecord?> CreditsStopRecordAsync(CancellationToken cancellation)
        {
            if (_batchStop.Stop.Credits is null)
            {
                return null;
            }

            CreditBalance? balance = null;
            var time = Client.Options.TimeProvider ?? TimeProvider.System;
            try
            {
                using (var deadline = time.CreateCancellationTokenSource(CreditsReadBound))
                using (var bound = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellation))
                {
                    balance = await Client.GetCreditsAsync(bound.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SegmindException || ex is OperationCanceledException)
            {
                // The figures the server gave with its refusal are in the message already.
            }

            return _batchStop.CreditsRecord(balance);
        }

        protected sealed override void EndProcessing()
        {
            if (_jobWork != null)
            {
                StartJob(_jobWork);
                return;
            }

            if (_pump == null)
            {
                return;
            }

            try
            {
                _pump.DrainAll(this);
            }
            catch (OperationCanceledException)
            {
                Abandon();
                throw new PipelineStoppedException();
            }
            catch (Exception)
            {
                Abandon();
                throw;
            }

            ThrowIfBatchStopped();
            if (CreditsStopRecordAsync(_stopping.Token).GetAwaiter().GetResult() is ErrorRecord creditsStop)
            {
                WriteError(creditsStop);
            }

            OnAllWorkDone(new DirectSink(this, VerboseWanted()));
        }

        protected sealed override void StopProcessing()
        {
            _stopping.Cancel();
            OnStopping();
        }

        /// <summary>
        /// Runs after a stop cancelled the work, on the stopping thread and again before the stopped cmdlet is disposed:
        /// lets work that must not be cut short settle first. Must be safe to call twice.
        /// </summary>
        internal virtual void OnStopping()
        {
        }

        /// <summary>Runs once the client and the journal are open, before any input.</summary>
        internal virtual void OnClientReady()
        {
        }

        /// <summary>
        /// The run is ending early (a terminating error, a stop): everything still waiting has been cancelled. Settle
        /// what must not be lost and report it through <paramref name="warn"/> (which reaches the user even when the
        /// pipeline no longer takes output).
        /// </summary>
        internal virtual void OnAbandoned(Action<string> warn)
        {
        }

        /// <summary>Runs when the cmdlet (or its -AsJob job) is done with its client.</summary>
        internal virtual void OnReleased()
        {
        }

        private void Abandon()
        {
            if (_abandoned)
            {
                return;
            }

            _abandoned = true;
            try
            {
                _stopping.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            OnAbandoned(WarnAnyway);
        }

        /// <summary>A warning on the pipeline if it still takes one, otherwise straight to the host.</summary>
        private void WarnAnyway(string message)
        {
            try
            {
                WriteWarning(message);
                return;
            }
            catch (Exception ex) when (ex is PipelineStoppedException || ex is InvalidOperationException || ex is ActionPreferenceStopException || ex is NotImplementedException)
            {
            }

            try
            {
                Host?.UI?.WriteWarningLine(message);
            }
            catch (Exception ex) when (ex is PipelineStoppedException || ex is InvalidOperationException || ex is NotImplementedException)
            {
            }
        }

        /// <summary>
        /// Whether this invocation's verbose messages may be shown: false only when -Verbose:$false was given, or neither
        /// -Verbose nor -Debug was and $VerbosePreference is SilentlyContinue or Ignore. When unsure, true: formatting a
        /// message nobody reads costs a little time, dropping one somebody asked for would be wrong.
        /// </summary>
        internal bool VerboseWanted()
        {
            var bound = MyInvocation.BoundParameters;
            if (bound.TryGetValue("Verbose", out var verbose))
            {
                return !(verbose is SwitchParameter flag) || flag.IsPresent;
            }

            if (bound.ContainsKey("Debug"))
            {
                return true;
            }

            try
            {
                var preference = GetVariableValue("VerbosePreference");
                return !(LanguagePrimitives.TryConvertTo<ActionPreference>(preference, out var value)
                    && (value == ActionPreference.SilentlyContinue || value == ActionPreference.Ignore));
            }
            catch (Exception ex) when (ex is PSInvalidOperationException || ex is ArgumentException || ex is InvalidCastException)
            {
                return true;
            }
        }

        /// <summary>Whether debug messages may be shown: -Debug, or $DebugPreference other than SilentlyContinue/Ignore.</summary>
        internal bool DebugWanted()
        {
            if (MyInvocation.BoundParameters.TryGetValue("Debug", out var debug))
            {
                return !(debug is SwitchParameter flag) || flag.IsPresent;
            }

            try
            {
                var preference = GetVariableValue("DebugPreference");
                return !(LanguagePrimitives.TryConvertTo<ActionPreference>(preference, out var value)
                    && (value == ActionPreference.SilentlyContinue || value == ActionPreference.Ignore));
            }
            catch (Exception ex) when (ex is PSInvalidOperationException || ex is ArgumentException || ex is InvalidCastException)
            {
                return false;
            }
        }

        /// <summary>Checks cmdlet-specific parameters before anything is sent; throw through ThrowTerminatingError.</summary>
        protected virtual void ValidateParameters()
        {
        }

        /// <summary>Adjusts the client options (upload address, poll schedule) before the client is created.</summary>
        internal virtual void ConfigureClient(SegmindClientOptions options)
        {
        }

        /// <summary>Handles one pipeline input on the pipeline thread: validate, ShouldProcess, then <see cref="Dispatch"/>.</summary>
        protected abstract void ProcessInput();

        /// <summary>Runs once all work has ended (on the pipeline thread, or at the end of the job).</summary>
        internal virtual void OnAllWorkDone(IOperationSink sink)
        {
        }

        /// <summary>Queues one unit of work: started now on the pipeline, or kept for the job started in EndProcessing.</summary>
        internal void Dispatch(Func<IOperationSink, CancellationToken, Task> work)
        {
            if (_jobWork != null)
            {
                _jobWork.Add(work);
            }
            else
            {
                _pump!.Start(work);
            }
        }

        /// <summary>A provider path (relative to the current PowerShell location) turned into a file-system path.</summary>
        internal string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_stopping.IsCancellationRequested && !_clientOwnedByJob)
            {
                // The engine disposes a stopped cmdlet on the pipeline thread while its stop may still be settling.
                OnStopping();
            }

            var workStillRunning = _pump != null && _pump.Pending > 0;
            if (workStillRunning && !_clientOwnedByJob)
            {
                // Ended from outside (another command's terminating error) while work was running.
                Abandon();
            }

            _pump?.Dispose();
            if (!_clientOwnedByJob)
            {
                OnReleased();
                _client?.Dispose();
                _journal?.Dispose();
            }

            // After a stop, cancelled work may still be unwinding and touching the token; leave that source to the GC.
            if (!workStillRunning)
            {
                _stopping.Dispose();
            }
            GC.SuppressFinalize(this);
        }

        private void StartJob(List<Func<IOperationSink, CancellationToken, Task>> work)
        {
            // The job owns the client from now on; the cmdlet's Dispose must not end it.
            var client = _client;
            var journal = _journal;
            _clientOwnedByJob = true;
            var body = new Func<IOperationSink, CancellationToken, Task>(async (sink, cancellation) =>
            {
                // As on the pipeline: rows refused or held back by a batch stop write no error of their own; the job
                // writes the stop's one error once its work has ended.
                var rows = new ErrorFilteringSink(sink, _batchStop.Absorbs);
                _warningSink = rows;
                await Task.WhenAll(work.Select(w => OperationRunner.RunSafelyAsync(w, rows, cancellation))).ConfigureAwait(false);
                if (!cancellation.IsCancellationRequested)
                {
                    OnAllWorkDone(sink);
                    var stopRecord = _batchStop.FatalRecord() ?? await CreditsStopRecordAsync(cancellation).ConfigureAwait(false);
                    if (stopRecord != null)
                    {
                        sink.WriteError(stopRecord);
                    }
                }
                else
                {
                    // Stop-Job: the job's own warning stream still takes what must be reported.
                    OnAbandoned(sink.WriteWarning);
                }
            });
            var job = new SegmindJob(MyInvocation.MyCommand.Name, body, () =>
            {
                OnReleased();
                client?.Dispose();
                journal?.Dispose();
            });
            JobRepository.Add(job);
            job.Start();
            WriteObject(job);
        }

        /// <summary>The journal's current state (the -JournalPath cmdlets that resume from it alone); a journal that cannot be read stops the command.</summary>
        internal JournalState ReadJournalState()
        {
            try
            {
                return Journal!.ReadState();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SegmindJournalException)
            {
                ThrowTerminatingError(ErrorRecordFactory.ToErrorRecord(ex, JournalPathArgument));
                throw;
            }
        }

        private void OpenJournal()
        {
            var path = JournalPathArgument;
            if (path == null)
            {
                return;
            }

            try
            {
                _journal = BatchJournal.IsTableAddress(path)
                    ? JournalAccess.OpenTable(path, JournalCredentialArgument)
                    : JournalAccess.Open(ResolvePath(path));
            }
            catch (Exception ex) when (ex is SegmindException || ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException
                || ex is NotSupportedException || ex is TimeoutException || ex is ItemNotFoundException || ex is ProviderNotFoundException
                || ex is System.Management.Automation.DriveNotFoundException || ex is PSInvalidOperationException)
            {
                var record = ErrorRecordFactory.ToErrorRecord(ex, path);
                record.ErrorDetails = new ErrorDetails("Cannot open the journal '" + path + "': " + ex.Message);
                ThrowTerminatingError(record);
            }
        }

        private Segmind.Client.ApiKey ResolveApiKey()
        {
            if (ApiKey != null && ApiKey.Length > 0)
            {
                var plain = new NetworkCredential(string.Empty, ApiKey).Password;
                if (!string.IsNullOrWhiteSpace(plain))
                {
                    return new Segmind.Client.ApiKey(plain);
                }
            }

            var fromEnvironment = Segmind.Client.ApiKey.FromEnvironment();
            if (fromEnvironment == null)
            {
                ThrowTerminatingError(ErrorRecordFactory.NoApiKey());
            }

            return fromEnvironment!;
        }

        private Uri ResolveBaseUri()
        {
            var uri = BaseUri;
            var source = "-BaseUri";
            if (uri == null)
            {
                var fromEnvironment = Environment.GetEnvironmentVariable(SegmindClientOptions.BaseUriEnvironmentVariable);
                if (!string.IsNullOrWhiteSpace(fromEnvironment))
                {
                    source = "$env:" + SegmindClientOptions.BaseUriEnvironmentVariable;
                    if (!Uri.TryCreate(fromEnvironment!.Trim(), UriKind.Absolute, out uri))
                    {
                        ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("BaseUri", source + " is not an absolute http(s) address.", fromEnvironment));
                    }
                }
            }

            uri ??= SegmindClientOptions.DefaultBaseUri;
            if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                ThrowTerminatingError(ErrorRecordFactory.InvalidArgument("BaseUri", source + " '" + uri.OriginalString + "' is not an absolute http(s) address.", uri));
            }

            return uri;
        }
    }
}

using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// The job -AsJob returns: runs a cmdlet's work in the background and keeps what it produces in the job's
    /// streams for Receive-Job. Completed when all went well, Failed when any error was written, Stopped after
    /// Stop-Job (which cancels requests in flight).
    /// </summary>
    public sealed class SegmindJob : Job, IOperationSink
    {
        public const string JobTypeName = "SegmindJob";

        private const string RunningStatus = "Running.";

        // Wall time: it bounds how long the person running Stop-Job waits.
        private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);

        private readonly Func<IOperationSink, CancellationToken, Task> _body;
        private readonly Action? _onEnded;
        private readonly CancellationTokenSource _cancellation = new CancellationTokenSource();
        private readonly object _stateLock = new object();
        private Task? _running;
        private bool _ended;
        private bool _stopRequested;
        private int _errorCount;
        private string _status = "Not started.";

        internal SegmindJob(string command, Func<IOperationSink, CancellationToken, Task> body, Action? onEnded)
            : base(command)
        {
            _body = body;
            _onEnded = onEnded;
            PSJobTypeName = JobTypeName;
        }

        public override string StatusMessage => Volatile.Read(ref _status);

        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Warning.Count > 0 || Debug.Count > 0 || Information.Count > 0;

        public override string Location => "localhost";

        internal void Start()
        {
            SetJobState(JobState.Running);
            SetStatus(RunningStatus);
            _running = Task.Run(async () =>
            {
                await OperationRunner.RunSafelyAsync(_body, this, _cancellation.Token).ConfigureAwait(false);
                End();
            });
        }

        public override void StopJob()
        {
            lock (_stateLock)
            {
                if (_ended)
                {
                    return;
                }

                _stopRequested = true;
                SetJobState(JobState.Stopping);
            }

            _cancellation.Cancel();
            try
            {
                // Cancellation reaches every request in flight; the grace period only bounds a misbehaving one.
                _running?.Wait(StopGrace);
            }
            catch (AggregateException)
            {
            }

            End();
        }

        void IOperationSink.WriteObject(object value) => Output.Add(PSObject.AsPSObject(value));

        void IOperationSink.WriteObject(object value, Action written)
        {
            Output.Add(PSObject.AsPSObject(value));
            written();
        }

        void IOperationSink.WriteError(ErrorRecord error)
        {
            Interlocked.Increment(ref _errorCount);
            Error.Add(error);
        }

        void IOperationSink.WriteProgress(ProgressRecord progress) => Progress.Add(progress);

        void IOperationSink.WriteVerbose(string message) => Verbose.Add(new VerboseRecord(message));

        void IOperationSink.WriteWarning(string message) => Warning.Add(new WarningRecord(message));

        void IOperationSink.WriteDebug(string message) => Debug.Add(new DebugRecord(message));

        public void SetStatus(string message) => Volatile.Write(ref _status, message);

        // A job keeps its Verbose stream whatever the preference: Receive-Job decides what to show.
        bool IOperationSink.VerboseWanted => true;

        bool IOperationSink.StatusWanted => true;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                lock (_stateLock)
                {
                    if (!_ended)
                    {
                        _stopRequested = true;
                        _cancellation.Cancel();
                    }
                }
            }

            base.Dispose(disposing);
        }

        private void End()
        {
            JobState final;
            lock (_stateLock)
            {
                if (_ended)
                {
                    return;
                }

                _ended = true;
                var errors = Volatile.Read(ref _errorCount);
                final = _stopRequested ? JobState.Stopped
                    : errors > 0 ? JobState.Failed
                    : JobState.Completed;
                var progressSoFar = StatusMessage == RunningStatus ? string.Empty : StatusMessage.TrimEnd('.') + "; ";
                if (final == JobState.Stopped)
                {
                    SetStatus(progressSoFar + "Stopped.");
                }
                else if (errors > 0)
                {
                    SetStatus(progressSoFar + errors.ToString(System.Globalization.CultureInfo.InvariantCulture) + (errors == 1 ? " error." : " errors."));
                }
                else
                {
                    SetStatus(progressSoFar + "Completed.");
                }
            }

            try
            {
                _onEnded?.Invoke();
            }
            finally
            {
                // Outside the lock: Wait-Job and StateChanged handlers run synchronously from here.
                SetJobState(final);
            }
        }
    }
}

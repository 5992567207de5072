using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Segmind.WanAnimate.Errors;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// Runs work on the thread pool and queues what it produces; the cmdlet drains the queue on the pipeline
    /// thread (ready items in ProcessRecord, everything in EndProcessing), because only that thread may write.
    /// </summary>
    internal sealed class PipelinePump : IOperationSink, IDisposable
    {
        private static readonly Action<Cmdlet> WakeUp = _ => { };

        // A plain locked queue rather than a BlockingCollection: its semaphore spins before it blocks, which on a busy
        // machine takes CPU from the very requests being waited for, and it woke the pipeline thread once per item.
        // Here producers signal only a consumer that is actually asleep, and it then takes everything queued.
        private readonly object _lock = new object();
        private readonly Queue<Action<Cmdlet>> _queue = new Queue<Action<Cmdlet>>();
        private readonly CancellationToken _cancellation;
        private readonly CancellationTokenRegistration _wakeOnCancel;
        private bool _consumerWaiting;
        private bool _disposed;
        private int _pending;

        public PipelinePump(CancellationToken cancellation, bool verboseWanted = true)
        {
            _cancellation = cancellation;
            VerboseWanted = verboseWanted;
            _wakeOnCancel = cancellation.Register(state => ((PipelinePump)state!).WakeConsumer(), this);
        }

        public bool VerboseWanted { get; }

        public bool StatusWanted => false;

        public int Pending => Volatile.Read(ref _pending);

        /// <summary>Errors it returns true for are not written (the cmdlet reports them once, e.g. a batch stop).</summary>
        public Func<ErrorRecord, bool>? ErrorFilter { get; set; }

        public void Start(Func<IOperationSink, CancellationToken, Task> work)
        {
            Interlocked.Increment(ref _pending);

            // Straight onto the thread pool, not Task.Run: that would keep an unwrapping task per job until the job ends.
            ThreadPool.QueueUserWorkItem(_ => _ = RunAsync(work));
        }

        /// <summary>One unit of work, in one state machine: a batch keeps one of these per job it follows.</summary>
        private async Task RunAsync(Func<IOperationSink, CancellationToken, Task> work)
        {
            try
            {
                await work(this, _cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                WriteError(ErrorRecordFactory.ToErrorRecord(ex, null));
            }
            finally
            {
                // Everything the work produced was queued before this, so "nothing pending and queue empty" means done.
                // Only the last one needs to wake DrainAll, which re-checks Pending after every item it takes.
                if (Interlocked.Decrement(ref _pending) == 0)
                {
                    Post(WakeUp);
                }
            }
        }

        /// <summary>Writes whatever is ready, without waiting.</summary>
        public void DrainReady(Cmdlet cmdlet)
        {
            while (TryTake(out var action))
            {
                action(cmdlet);
            }
        }

        /// <summary>Writes everything as it arrives until all work has ended. Throws OperationCanceledException when the pipeline is stopped.</summary>
        public void DrainAll(Cmdlet cmdlet)
        {
            while (true)
            {
                Action<Cmdlet> action;
                lock (_lock)
                {
                    while (_queue.Count == 0)
                    {
                        // Work decrements Pending before it posts its wake-up, and posting takes this lock: no wake-up is lost.
                        if (Pending == 0)
                        {
                            return;
                        }

                        ThrowIfStoppedOrDisposed();
                        _consumerWaiting = true;
                        try
                        {
                            Monitor.Wait(_lock);
                        }
                        finally
                        {
                            _consumerWaiting = false;
                        }
                    }

                    ThrowIfStoppedOrDisposed();
                    action = _queue.Dequeue();
                }

                action(cmdlet);
            }
        }

        private bool TryTake(out Action<Cmdlet> action)
        {
            lock (_lock)
            {
                if (_queue.Count == 0)
                {
                    action = null!;
                    return false;
                }

                action = _queue.Dequeue();
                return true;
            }
        }

        private void ThrowIfStoppedOrDisposed()
        {
            _cancellation.ThrowIfCancellationRequested();
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(PipelinePump));
            }
        }

        private void WakeConsumer()
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        }

        public void WriteObject(object value) => Post(c => c.WriteObject(value));

        public void WriteObject(object value, Action written) => Post(c =>
        {
            c.WriteObject(value);
            written();
        });

        public void WriteError(ErrorRecord error)
        {
            if (ErrorFilter?.Invoke(error) == true)
            {
                return;
            }

            Post(c => c.WriteError(error));
        }

        public void WriteProgress(ProgressRecord progress) => Post(c => c.WriteProgress(progress));

        public void WriteVerbose(string message) => Post(c => VerboseLines.Write(c, message));

        public void WriteWarning(string message) => Post(c => c.WriteWarning(message));

        public void WriteDebug(string message) => Post(c => c.WriteDebug(message));

        public void SetStatus(string message)
        {
        }

        public void Dispose()
        {
            _wakeOnCancel.Dispose();
            lock (_lock)
            {
                _disposed = true;
                _queue.Clear();
                Monitor.PulseAll(_lock);
            }
        }

        private void Post(Action<Cmdlet> action)
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    // The cmdlet has ended (stopped); late output of cancelled work has nowhere to go.
                    return;
                }

                _queue.Enqueue(action);
                if (_consumerWaiting)
                {
                    Monitor.Pulse(_lock);
                }
            }
        }
    }

    /// <summary>Writes straight to the cmdlet: only for code already running on the pipeline thread.</summary>
    internal sealed class DirectSink : IOperationSink
    {
        private readonly Cmdlet _cmdlet;

        public DirectSink(Cmdlet cmdlet, bool verboseWanted = true)
        {
            _cmdlet = cmdlet;
            VerboseWanted = verboseWanted;
        }

        public bool VerboseWanted { get; }

        public bool StatusWanted => false;

        public void WriteObject(object value) => _cmdlet.WriteObject(value);

        public void WriteObject(object value, Action written)
        {
            _cmdlet.WriteObject(value);
            written();
        }

        public void WriteError(ErrorRecord error) => _cmdlet.WriteError(error);

        public void WriteProgress(ProgressRecord progress) => _cmdlet.WriteProgress(progress);

        public void WriteVerbose(string message) => VerboseLines.Write(_cmdlet, message);

        public void WriteWarning(string message) => _cmdlet.WriteWarning(message);

        public void WriteDebug(string message) => _cmdlet.WriteDebug(message);

        public void SetStatus(string message)
        {
        }
    }

    internal static class OperationRunner
    {
        /// <summary>Runs one unit of work; cancellation is silent, anything unexpected becomes an error record instead of a lost exception.</summary>
        public static async Task RunSafelyAsync(Func<IOperationSink, CancellationToken, Task> work, IOperationSink sink, CancellationToken cancellation)
        {
            try
            {
                await work(sink, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, null));
            }
        }
    }
}

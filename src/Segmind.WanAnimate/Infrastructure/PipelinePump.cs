using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>
    /// Runs work on the thread pool and queues what it produces; the cmdlet drains the queue on the pipeline
    /// thread (ready items in ProcessRecord, everything in EndProcessing), because only that thread may write.
    /// </summary>
    internal sealed class PipelinePump : IOperationSink, IDisposable
    {
        private static readonly Action<Cmdlet> WakeUp = _ => { };

        private readonly BlockingCollection<Action<Cmdlet>> _queue = new BlockingCollection<Action<Cmdlet>>();
        private readonly CancellationToken _cancellation;
        private int _pending;

        public PipelinePump(CancellationToken cancellation)
        {
            _cancellation = cancellation;
        }

        public int Pending => Volatile.Read(ref _pending);

        public void Start(Func<IOperationSink, CancellationToken, Task> work)
        {
            Interlocked.Increment(ref _pending);
            Task.Run(async () =>
            {
                try
                {
                    await OperationRunner.RunSafelyAsync(work, this, _cancellation).ConfigureAwait(false);
                }
                finally
                {
                    // Everything the work produced was queued before this, so "nothing pending and queue empty" means done.
                    Interlocked.Decrement(ref _pending);
                    Post(WakeUp);
                }
            });
        }

        /// <summary>Writes whatever is ready, without waiting.</summary>
        public void DrainReady(Cmdlet cmdlet)
        {
            while (_queue.TryTake(out var action))
            {
                action(cmdlet);
            }
        }

        /// <summary>Writes everything as it arrives until all work has ended. Throws OperationCanceledException when the pipeline is stopped.</summary>
        public void DrainAll(Cmdlet cmdlet)
        {
            while (Pending > 0 || _queue.Count > 0)
            {
                var action = _queue.Take(_cancellation);
                action(cmdlet);
            }
        }

        public void WriteObject(object value) => Post(c => c.WriteObject(value));

        public void WriteError(ErrorRecord error) => Post(c => c.WriteError(error));

        public void WriteProgress(ProgressRecord progress) => Post(c => c.WriteProgress(progress));

        public void WriteVerbose(string message) => Post(c => c.WriteVerbose(message));

        public void WriteWarning(string message) => Post(c => c.WriteWarning(message));

        public void SetStatus(string message)
        {
        }

        public void Dispose() => _queue.Dispose();

        private void Post(Action<Cmdlet> action)
        {
            try
            {
                _queue.Add(action);
            }
            catch (ObjectDisposedException)
            {
                // The cmdlet has ended (stopped); late output of cancelled work has nowhere to go.
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Writes straight to the cmdlet: only for code already running on the pipeline thread.</summary>
    internal sealed class DirectSink : IOperationSink
    {
        private readonly Cmdlet _cmdlet;

        public DirectSink(Cmdlet cmdlet)
        {
            _cmdlet = cmdlet;
        }

        public void WriteObject(object value) => _cmdlet.WriteObject(value);

        public void WriteError(ErrorRecord error) => _cmdlet.WriteError(error);

        public void WriteProgress(ProgressRecord progress) => _cmdlet.WriteProgress(progress);

        public void WriteVerbose(string message) => _cmdlet.WriteVerbose(message);

        public void WriteWarning(string message) => _cmdlet.WriteWarning(message);

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
                sink.WriteError(ErrorMapper.ToErrorRecord(ex, null));
            }
        }
    }
}

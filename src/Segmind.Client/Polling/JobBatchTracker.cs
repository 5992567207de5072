using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Follows a group of jobs through a <see cref="JobPoller"/> and hands their outcomes back in the order they end,
    /// with counts for one progress bar. Built for a cmdlet's pipeline thread:
    /// <code>
    /// using var tracker = new JobBatchTracker(poller, schedule, deadline, token);
    /// foreach (var job in jobs) tracker.Add(job.ToReference(), job);
    /// while (tracker.Remaining &gt; 0)
    /// {
    ///     if (tracker.TryTake(TimeSpan.FromMilliseconds(250), token, out var outcome)) { /* write outcome */ }
    ///     /* draw tracker.GetProgress() */
    /// }
    /// </code>
    /// </summary>
    public sealed class JobBatchTracker : IDisposable
    {
        private readonly object _lock = new object();
        private readonly JobPoller _poller;
        private readonly PollSchedule _schedule;
        private readonly DateTimeOffset _deadline;
        private readonly CancellationTokenSource _cancellation;
        private readonly BlockingCollection<JobOutcome> _outcomes = new BlockingCollection<JobOutcome>(new ConcurrentQueue<JobOutcome>());
        private int _total;
        private int _taken;
        private int _notSeen;
        private int _queued;
        private int _processing;
        private int _completed;
        private int _failed;
        private int _timedOut;
        private int _errored;
        private int _cancelled;
        private bool _disposed;

        /// <param name="poller">The poller that does the polling; not owned (not disposed with the tracker).</param>
        /// <param name="schedule">The back-off between each job's polls.</param>
        /// <param name="deadline">When every job of the group stops being followed (each then ends with <see cref="SegmindWaitTimeoutException"/>).</param>
        /// <param name="cancellationToken">Stops following every job of the group (the jobs go on at Segmind).</param>
        public JobBatchTracker(JobPoller poller, PollSchedule schedule, DateTimeOffset deadline, CancellationToken cancellationToken = default)
        {
            _poller = poller ?? throw new ArgumentNullException(nameof(poller));
            _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
            _deadline = deadline;
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        }

        /// <summary>Jobs added and not yet taken with <see cref="TryTake"/>.</summary>
        public int Remaining
        {
            get
            {
                lock (_lock)
                {
                    return _total - _taken;
                }
            }
        }

        /// <summary>
        /// Starts following <paramref name="job"/>; <paramref name="tag"/> travels with its outcome (a pipeline
        /// object, a row id).
        /// </summary>
        public void Add(JobReference job, object? tag = null)
        {
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            var item = new Item(this, job, tag);
            lock (_lock)
            {
                if (_disposed)
                {
                    throw new ObjectDisposedException(nameof(JobBatchTracker));
                }

                _total++;
                _notSeen++;
            }

            Task<JobResult> task;
            try
            {
                task = _poller.Track(job, _schedule, _deadline, _cancellation.Token, item);
            }
            catch (Exception error)
            {
                task = Task.FromException<JobResult>(error);
            }

            task.ContinueWith((finished, state) => ((Item)state!).Owner.OnFinished((Item)state, finished), item, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        /// <summary>
        /// Waits up to <paramref name="wait"/> for the next job to end. Returns false when none ended in that time,
        /// or when every added job has already been taken.
        /// </summary>
        public bool TryTake(TimeSpan wait, CancellationToken cancellationToken, out JobOutcome outcome)
        {
            outcome = null!;
            lock (_lock)
            {
                if (_taken >= _total)
                {
                    return false;
                }
            }

            if (!_outcomes.TryTake(out var taken, (int)Math.Max(0, Math.Min(int.MaxValue, wait.TotalMilliseconds)), cancellationToken))
            {
                return false;
            }

            lock (_lock)
            {
                _taken++;
            }

            outcome = taken;
            return true;
        }

        /// <summary>Counts for a progress bar: how many jobs are where right now.</summary>
        public JobBatchProgress GetProgress()
        {
            lock (_lock)
            {
                return new JobBatchProgress(_total, _notSeen, _queued, _processing, _completed, _failed, _timedOut, _errored, _cancelled);
            }
        }

        /// <summary>Stops following the jobs that have not ended (they go on at Segmind).</summary>
        public void Dispose()
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            _cancellation.Cancel();
            _cancellation.Dispose();
        }

        private void OnStatus(Item item, string status)
        {
            lock (_lock)
            {
                if (item.Ended)
                {
                    return;
                }

                Count(item.Bucket, -1);
                item.Bucket = status == JobState.Queued ? Bucket.Queued : Bucket.Processing;
                Count(item.Bucket, +1);
            }
        }

        private void OnFinished(Item item, Task<JobResult> task)
        {
            JobOutcome outcome;
            lock (_lock)
            {
                item.Ended = true;
                Count(item.Bucket, -1);
                if (task.Status == TaskStatus.RanToCompletion)
                {
                    _completed++;
                    outcome = new JobOutcome(item.Job, item.Tag, task.Result, null, item.LastStatus);
                }
                else if (task.IsCanceled)
                {
                    _cancelled++;
                    outcome = new JobOutcome(item.Job, item.Tag, null, new OperationCanceledException("Stopped following job " + item.Job.RequestId + "."), item.LastStatus);
                }
                else
                {
                    var error = task.Exception!.GetBaseException();
                    switch (error)
                    {
                        case SegmindJobFailedException _:
                            _failed++;
                            break;
                        case SegmindWaitTimeoutException _:
                            _timedOut++;
                            break;
                        default:
                            _errored++;
                            break;
                    }

                    outcome = new JobOutcome(item.Job, item.Tag, null, error, item.LastStatus);
                }
            }

            _outcomes.Add(outcome);
        }

        private void Count(Bucket bucket, int delta)
        {
            switch (bucket)
            {
                case Bucket.NotSeen:
                    _notSeen += delta;
                    break;
                case Bucket.Queued:
                    _queued += delta;
                    break;
                default:
                    _processing += delta;
                    break;
            }
        }

        private enum Bucket
        {
            NotSeen,
            Queued,
            Processing,
        }

        private sealed class Item : IProgress<JobStatus>
        {
            public Item(JobBatchTracker owner, JobReference job, object? tag)
            {
                Owner = owner;
                Job = job;
                Tag = tag;
            }

            public JobBatchTracker Owner { get; }
            public JobReference Job { get; }
            public object? Tag { get; }
            public Bucket Bucket { get; set; }
            public bool Ended { get; set; }
            public JobStatus? LastStatus { get; private set; }

            public void Report(JobStatus value)
            {
                LastStatus = value;
                Owner.OnStatus(this, value.Status);
            }
        }
    }

    /// <summary>How a tracked job ended: <see cref="Result"/> when it completed, otherwise <see cref="Error"/>.</summary>
    public sealed class JobOutcome
    {
        public JobOutcome(JobReference job, object? tag, JobResult? result, Exception? error, JobStatus? lastStatus)
        {
            Job = job;
            Tag = tag;
            Result = result;
            Error = error;
            LastStatus = lastStatus;
        }

        public JobReference Job { get; }

        /// <summary>What was passed to <see cref="JobBatchTracker.Add"/> with the job.</summary>
        public object? Tag { get; }

        /// <summary>The result of a COMPLETED job; null otherwise.</summary>
        public JobResult? Result { get; }

        /// <summary>
        /// Why the job did not complete: <see cref="SegmindJobFailedException"/>, <see cref="SegmindWaitTimeoutException"/>,
        /// <see cref="SegmindNotFoundException"/>, <see cref="OperationCanceledException"/> or another client error.
        /// </summary>
        public Exception? Error { get; }

        /// <summary>The last status read, with its metrics and error (a FAILED job's details live here).</summary>
        public JobStatus? LastStatus { get; }

        public bool Succeeded => Result != null;
    }

    /// <summary>Counts of a <see cref="JobBatchTracker"/>'s jobs, for one progress bar.</summary>
    public sealed class JobBatchProgress
    {
        public JobBatchProgress(int total, int notYetPolled, int queued, int processing, int completed, int failed, int timedOut, int errored, int cancelled)
        {
            Total = total;
            NotYetPolled = notYetPolled;
            Queued = queued;
            Processing = processing;
            Completed = completed;
            Failed = failed;
            TimedOut = timedOut;
            Errored = errored;
            Cancelled = cancelled;
        }

        public int Total { get; }
        public int NotYetPolled { get; }
        public int Queued { get; }

        /// <summary>Running, including jobs whose COMPLETED status was seen and whose result is being fetched.</summary>
        public int Processing { get; }
        public int Completed { get; }

        /// <summary>Ended FAILED at Segmind.</summary>
        public int Failed { get; }
        public int TimedOut { get; }

        /// <summary>Ended by another error (404, 401, ...).</summary>
        public int Errored { get; }
        public int Cancelled { get; }

        public int Ended => Completed + Failed + TimedOut + Errored + Cancelled;

        public int Running => NotYetPolled + Queued + Processing;

        /// <summary>0 to 100.</summary>
        public int PercentComplete => Total == 0 ? 100 : (int)(100L * Ended / Total);

        public override string ToString() =>
            string.Format(
                System.Globalization.CultureInfo.InvariantCulture,
                "{0}/{1} done ({2} completed, {3} failed, {4} timed out, {5} other errors, {6} cancelled); {7} queued, {8} processing",
                Ended,
                Total,
                Completed,
                Failed,
                TimedOut,
                Errored,
                Cancelled,
                Queued,
                Processing + NotYetPolled);
    }
}

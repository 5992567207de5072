using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;

namespace Segmind.Client
{
    /// <summary>
    /// Follows any number of jobs to their end with one time-ordered queue and one timer, instead of a waiting loop
    /// per job: 10,000 tracked jobs cost a few hundred bytes each and no thread. Thread-safe.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Ownership.</b> A poller is an object its caller owns and disposes (a cmdlet invocation, a script's batch).
    /// Pollers of the same account do not need to be merged: every poll goes through the client, hence through the
    /// account's shared <see cref="RequestGate"/>, which is what keeps the process under the rate limit.
    /// <see cref="SegmindClient.WaitAsync"/> does not create pollers: every wait of the process goes through the one
    /// shared poller of its account and address (<see cref="JobPollerRegistry"/>).
    /// </para>
    /// <para>
    /// <b>Timing.</b> Each job is polled on its <see cref="PollSchedule"/> (the delay grows after every poll), the
    /// first poll lands at a random point around the schedule's first delay (<see cref="JobPollerOptions.FirstPollSpread"/>),
    /// or, for a job submitted in this batch once durations are known, at its earliest end (<see cref="BatchPlanner"/>),
    /// and every delay is jittered, so polls spread over time instead of arriving in waves. At most
    /// <see cref="JobPollerOptions.MaxConcurrentPolls"/> polls run at once; the rest wait in the queue by due time.
    /// </para>
    /// <para>
    /// <b>Outcomes</b>, the same as <see cref="SegmindClient.WaitAsync"/>: COMPLETED fetches the result and completes
    /// the job's task with it at once; FAILED faults it with <see cref="SegmindJobFailedException"/> (request id and
    /// the server's error); the deadline with <see cref="SegmindWaitTimeoutException"/> (request id and last status;
    /// the job goes on at Segmind); 404 with <see cref="SegmindNotFoundException"/>; 401, 403 and other refusals with
    /// the client's exception. Transient failures (429, 5xx, network, malformed answers) that outlast the client's
    /// own retries do not fail the job: a GET is always safe, so the job is polled again later on its back-off, up to
    /// the deadline. Cancelling a job's token removes only that job.
    /// </para>
    /// </remarks>
    public sealed class JobPoller : IDisposable
    {
        /// <summary>A first poll the planner put at a job's earliest end comes up to this share of the wait later.</summary>
        private const double PlannedPollSpread = 0.05;

        private readonly object _lock = new object();
        private readonly IJobStatusSource? _source;
        private readonly JobPollerOptions _options;
        private readonly TimeProvider _clock;
        private readonly ClockTimer _timer;
        private readonly Random _random;
        private readonly DueQueue<Entry> _queue = new DueQueue<Entry>();

        // One delegate for every job's cancellation registration, instead of a closure per job.
        private readonly Action<object?> _cancelEntry;
        private long? _timerDueTicks;
        private int _running;
        private int _tracked;
        private bool _dispatching;
        private bool _disposed;

        /// <summary>A poller that reads job states through <paramref name="client"/> (its retries and request gate), on the client's clock.</summary>
        public JobPoller(SegmindClient client, JobPollerOptions? options = null)
            : this(new SegmindClientJobStatusSource(client), options, (client ?? throw new ArgumentNullException(nameof(client))).Time)
        {
        }

        public JobPoller(IJobStatusSource source, JobPollerOptions? options = null)
            : this(source, options, TimeProvider.System)
        {
        }

        /// <summary>A poller whose schedule runs on <paramref name="clock"/> (a scaled clock for dry runs, a fake one in tests).</summary>
        public JobPoller(IJobStatusSource source, JobPollerOptions? options, TimeProvider clock)
            : this(options, clock)
        {
            _source = source ?? throw new ArgumentNullException(nameof(source));
        }

        /// <summary>
        /// A poller without a source of its own: every job brings the source it is read through (see the internal
        /// <c>Track</c> overload). The process-wide pollers of <see cref="JobPollerRegistry"/> are built this way, so
        /// they never keep a client beyond the waits it asked for.
        /// </summary>
        internal JobPoller(JobPollerOptions? options, TimeProvider clock)
        {
            _options = options ?? new JobPollerOptions();
            _options.Validate();
            _clock = clock ?? throw new ArgumentNullException(nameof(clock));
            _random = _options.RandomSeed is int seed ? new Random(seed) : new Random();
            _timer = new ClockTimer(clock, Dispatch);
            _cancelEntry = CancelEntry;
            Planner = new BatchPlanner(clock);
        }

        /// <summary>What this poller's jobs teach about the batch: admission of new submits, predictive polls, expiry warnings.</summary>
        public BatchPlanner Planner { get; private set; } = null!;

        /// <summary>Jobs being followed now (queued or being polled).</summary>
        public int TrackedCount
        {
            get
            {
                lock (_lock)
                {
                    return _tracked;
                }
            }
        }

        /// <summary>Polls this poller runs at once, at most.</summary>
        internal int MaxConcurrentPolls => _options.MaxConcurrentPolls;

        /// <summary>
        /// The deadline <paramref name="limit"/> from now on this poller's clock; <see cref="Timeout.InfiniteTimeSpan"/>
        /// (and anything past the calendar's end) is <see cref="DateTimeOffset.MaxValue"/>, which never passes.
        /// </summary>
        internal DateTimeOffset DeadlineAfter(TimeSpan limit)
        {
            var now = _clock.GetUtcNow();
            if (limit == Timeout.InfiniteTimeSpan || limit.Ticks > DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks)
            {
                return DateTimeOffset.MaxValue;
            }

            return now + (limit < TimeSpan.Zero ? TimeSpan.Zero : limit);
        }

        /// <summary>
        /// Follows <paramref name="job"/> until it ends or <paramref name="deadline"/> passes. The task completes with
        /// the result on COMPLETED and faults as described on <see cref="JobPoller"/> otherwise; it is cancelled when
        /// <paramref name="cancellationToken"/> is. <paramref name="progress"/> hears every status read (it must not
        /// block; exceptions it throws are ignored so a progress display cannot fail a job).
        /// </summary>
        public Task<JobResult> Track(JobReference job, PollSchedule schedule, DateTimeOffset deadline, CancellationToken cancellationToken = default, IProgress<JobStatus>? progress = null)
        {
            if (_source is null)
            {
                throw new InvalidOperationException("This poller reads every job through the client that tracks it; use SegmindClient.WaitAsync.");
            }

            return Track(job, _source, schedule, deadline, waitLimit: null, cancellationToken, progress);
        }

        /// <summary>
        /// Follows <paramref name="job"/>, reading it through <paramref name="source"/> (the waiting client: its key,
        /// retries, request timeout and request gate) rather than the poller's own source. <paramref name="waitLimit"/>,
        /// when given, is the wait the caller asked for, named in the timeout message.
        /// </summary>
        internal Task<JobResult> Track(JobReference job, IJobStatusSource source, PollSchedule schedule, DateTimeOffset deadline, TimeSpan? waitLimit, CancellationToken cancellationToken, IProgress<JobStatus>? progress)
        {
            if (source is null)
            {
                throw new ArgumentNullException(nameof(source));
            }

            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            if (schedule is null)
            {
                throw new ArgumentNullException(nameof(schedule));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled<JobResult>(cancellationToken);
            }

            var entry = new Entry(job, source, schedule, deadline, waitLimit, cancellationToken, progress);
            Planner.OnTracked(job.RequestId);
            lock (_lock)
            {
                if (_disposed)
                {
                    Planner.OnFinished(job.RequestId, null);
                    throw new ObjectDisposedException(nameof(JobPoller));
                }

                var now = _clock.GetUtcNow().UtcTicks;
                var scheduled = schedule.NextDelay(0, _random);
                var planned = Planner.FirstPollDelay(job.RequestId, scheduled);
                long first;
                if (planned > scheduled)
                {
                    // Planned at the earliest end: a little later, never sooner, so jobs that end together spread out.
                    first = (long)(planned.Ticks * (1 + (_random.NextDouble() * PlannedPollSpread)));
                }
                else
                {
                    var spread = _options.FirstPollSpread;
                    var factor = (1 - spread) + (_random.NextDouble() * 2 * spread);
                    first = (long)(scheduled.Ticks * factor);
                }

                var due = now + Math.Max(1, first);
                _queue.Enqueue(entry, Math.Min(due, Math.Max(now, deadline.UtcTicks)));
                _tracked++;
            }

            if (cancellationToken.CanBeCanceled)
            {
                var registration = cancellationToken.Register(_cancelEntry, entry);
                lock (_lock)
                {
                    if (entry.Finished)
                    {
                        registration.Dispose();
                    }
                    else
                    {
                        entry.Registration = registration;
                    }
                }
            }

            Dispatch();
            return entry.Completion.Task;
        }

        /// <summary>Stops polling: every job still followed faults with <see cref="ObjectDisposedException"/>. Jobs go on at Segmind.</summary>
        public void Dispose()
        {
            System.Collections.Generic.List<Entry> abandoned;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                abandoned = _queue.DrainAll();
            }

            _timer.Dispose();
            foreach (var entry in abandoned)
            {
                Finish(entry, null, new ObjectDisposedException(nameof(JobPoller)), cancelled: false);
            }
        }

        private void CancelEntry(object? state)
        {
            var entry = (Entry)state!;
            lock (_lock)
            {
                _queue.Remove(entry);
            }

            // A poll in progress sees the same token and ends; Finish ignores whatever it reports afterwards.
            Finish(entry, null, null, cancelled: true);
        }

        /// <summary>Starts every due poll the concurrency limit allows, then arms the timer for the next one.</summary>
        private void Dispatch()
        {
            lock (_lock)
            {
                _timerDueTicks = null;
                if (_dispatching)
                {
                    // The running dispatcher re-reads the queue before it stops; it will see what this caller changed.
                    return;
                }

                _dispatching = true;
            }

            while (true)
            {
                Entry next;
                lock (_lock)
                {
                    var now = _clock.GetUtcNow().UtcTicks;
                    if (_disposed || _running >= _options.MaxConcurrentPolls || _queue.Count == 0 || _queue.Peek().DueTicks > now)
                    {
                        if (!_disposed && _running < _options.MaxConcurrentPolls && _queue.Count > 0)
                        {
                            ArmLocked(_queue.Peek().DueTicks, now);
                        }

                        _dispatching = false;
                        return;
                    }

                    next = _queue.Dequeue();
                    _running++;
                }

                // Polls against a real server return at their first await; a synchronous source finishes here, and the
                // Dispatch it triggers returns at once (this loop is running), so the stack never grows with the job count.
                _ = PollAsync(next);
            }
        }

        private void ArmLocked(long dueTicks, long nowTicks)
        {
            if (_timerDueTicks is long pending && pending <= dueTicks)
            {
                return;
            }

            _timerDueTicks = dueTicks;
            _timer.Schedule(TimeSpan.FromTicks(Math.Max(0, dueTicks - nowTicks)));
        }

        private async Task PollAsync(Entry entry)
        {
            try
            {
                await PollOnceAsync(entry).ConfigureAwait(false);
            }
            catch (Exception unexpected)
            {
                Finish(entry, null, unexpected, cancelled: false);
            }
            finally
            {
                lock (_lock)
                {
                    _running--;
                }

                Dispatch();
            }
        }

        private async Task PollOnceAsync(Entry entry)
        {
            if (entry.Finished)
            {
                return;
            }

            try
            {
                var status = await entry.Source.GetStatusAsync(entry.Job, entry.Token).ConfigureAwait(false);
                entry.LastStatus = status.Status;
                entry.LastRead = status;
                entry.LastError = null;
                Report(entry, status);
                if (Planner.OnStatus(status) is string atRisk)
                {
                    Warn(entry, atRisk);
                }

                if (status.Status == JobState.Completed)
                {
                    var result = await entry.Source.GetResultAsync(entry.Job, entry.Token).ConfigureAwait(false);
                    if (result.Status == JobState.Completed)
                    {
                        Finish(entry, result, null, cancelled: false);
                        return;
                    }

                    if (result.Status == JobState.Failed)
                    {
                        Finish(entry, null, JobFailed(entry, result.Error), cancelled: false);
                        return;
                    }

                    // The result endpoint can lag the status endpoint by a moment: look again on the schedule.
                }
                else if (status.Status == JobState.Failed)
                {
                    Finish(entry, null, JobFailed(entry, status.Error), cancelled: false);
                    return;
                }
            }
            catch (OperationCanceledException) when (entry.Token.IsCancellationRequested)
            {
                Finish(entry, null, null, cancelled: true);
                return;
            }
            catch (Exception error) when (IsWorthRetrying(error))
            {
                entry.LastError = error;
            }
            catch (Exception error)
            {
                Finish(entry, null, error, cancelled: false);
                return;
            }

            Reschedule(entry);
        }

        /// <summary>GETs are always safe to repeat, so anything that might pass later keeps the job: only definite refusals end it.</summary>
        private static bool IsWorthRetrying(Exception error)
        {
            switch (error)
            {
                case SegmindNotFoundException _:
                    return false;
                case SegmindException segmind:
                    return segmind.IsTransient || segmind is SegmindProtocolException;
                case HttpRequestException _:
                case IOException _:
                case TimeoutException _:
                case OperationCanceledException _:
                    // Not the job's own token (filtered earlier): a request timeout inside the client.
                    return true;
                default:
                    return false;
            }
        }

        private void Reschedule(Entry entry)
        {
            Exception? ending = null;
            lock (_lock)
            {
                if (entry.Finished)
                {
                    return;
                }

                if (_disposed)
                {
                    ending = new ObjectDisposedException(nameof(JobPoller));
                }
                else if (_clock.GetUtcNow().UtcTicks >= entry.Deadline.UtcTicks)
                {
                    ending = TimedOut(entry);
                }
                else
                {
                    entry.Attempt++;
                    var delay = Planner.NextPollDelay(entry.LastRead, entry.Schedule.NextDelay(entry.Attempt, _random));
                    var due = _clock.GetUtcNow().UtcTicks + delay.Ticks;
                    _queue.Enqueue(entry, Math.Min(due, entry.Deadline.UtcTicks));
                }
            }

            if (ending != null)
            {
                Finish(entry, null, ending, cancelled: false);
            }
        }

        // Worded like every other failed-job error of the client, whichever way the job was followed.
        private static SegmindJobFailedException JobFailed(Entry entry, string? serverError) => SegmindClient.JobFailed(entry.Job.RequestId, serverError);

        private static SegmindWaitTimeoutException TimedOut(Entry entry)
        {
            var lastPollFailed = entry.LastError is null ? string.Empty : "; the last poll failed: " + ErrorMapper.TrimEndPeriod(entry.LastError.Message);
            if (entry.WaitLimit is TimeSpan limit)
            {
                return new SegmindWaitTimeoutException(
                    $"Stopped waiting for job '{entry.Job.RequestId}' after {SegmindClient.Describe(limit)} (last status {entry.LastStatus ?? "unknown"}{lastPollFailed}); the job goes on at Segmind, so wait again with its request id (results are kept for 1 hour after submission).",
                    entry.Job.RequestId,
                    entry.LastStatus,
                    entry.LastError?.Message);
            }

            return new SegmindWaitTimeoutException(
                "Job " + entry.Job.RequestId + " did not finish before the deadline (last status: " + (entry.LastStatus ?? "never read") + ")" + lastPollFailed + ". It goes on at Segmind: wait again with its request id.",
                entry.Job.RequestId,
                entry.LastStatus,
                entry.LastError?.Message);
        }

        /// <summary>Through the waiting client's warning hook (the cmdlet's warning stream), when it has one.</summary>
        private static void Warn(Entry entry, string message)
        {
            try
            {
                (entry.Source as SegmindClientJobStatusSource)?.Client.Options.Warning?.Invoke(message);
            }
            catch (Exception)
            {
                // A warning display must not fail the job either.
            }
        }

        private static void Report(Entry entry, JobStatus status)
        {
            if (entry.Progress is null)
            {
                return;
            }

            try
            {
                entry.Progress.Report(status);
            }
            catch (Exception)
            {
                // Documented: a progress display must not fail the job it displays.
            }
        }

        private void Finish(Entry entry, JobResult? result, Exception? error, bool cancelled)
        {
            CancellationTokenRegistration registration;
            lock (_lock)
            {
                if (entry.Finished)
                {
                    return;
                }

                entry.Finished = true;
                _tracked--;
                registration = entry.Registration;
                entry.Registration = default;
            }

            registration.Dispose();
            Planner.OnFinished(entry.Job.RequestId, entry.LastRead);
            if (cancelled)
            {
                entry.Completion.TrySetCanceled(entry.Token);
            }
            else if (error != null)
            {
                entry.Completion.TrySetException(error);
            }
            else
            {
                entry.Completion.TrySetResult(result!);
            }
        }

        private sealed class Entry : DueItem
        {
            public Entry(JobReference job, IJobStatusSource source, PollSchedule schedule, DateTimeOffset deadline, TimeSpan? waitLimit, CancellationToken token, IProgress<JobStatus>? progress)
            {
                Job = job;
                Source = source;
                Schedule = schedule;
                Deadline = deadline;
                WaitLimit = waitLimit;
                Token = token;
                Progress = progress;
            }

            public JobReference Job { get; }
            public IJobStatusSource Source { get; }
            public PollSchedule Schedule { get; }
            public DateTimeOffset Deadline { get; }
            public TimeSpan? WaitLimit { get; }
            public CancellationToken Token { get; }
            public IProgress<JobStatus>? Progress { get; }
            public TaskCompletionSource<JobResult> Completion { get; } = new TaskCompletionSource<JobResult>(TaskCreationOptions.RunContinuationsAsynchronously);

            /// <summary>Polls made so far; picks the next delay on the schedule.</summary>
            public int Attempt { get; set; }

            public string? LastStatus { get; set; }

            /// <summary>The last status answer, for the planner (its state and metrics).</summary>
            public JobStatus? LastRead { get; set; }

            public Exception? LastError { get; set; }

            /// <summary>Set once, under the poller's lock.</summary>
            public bool Finished { get; set; }

            public CancellationTokenRegistration Registration { get; set; }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Plans a batch against Segmind's limits from what the batch itself observes: how many jobs may be outstanding
    /// at Segmind so that each can still be collected inside the retention window (admission), when each job is worth
    /// polling (predictive polling), and which jobs are at risk of expiring. One per shared poller (account, address
    /// and clock), so the submits of <c>New-WanAnimateJob</c> and the polls of a <c>Wait-WanAnimateJob</c> downstream
    /// plan together. Thread-safe.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Admission.</b> Segmind keeps status and results for <see cref="Retention"/> after <i>submission</i>, and runs a
    /// limited number of an account's jobs at once. With <c>C</c> jobs seen running at once and a median duration
    /// <c>D</c> (from <c>inference_time</c> of the jobs completed in this batch), a job with <c>k</c> jobs ahead of it
    /// ends about <c>(k / C + 1) × D</c> from now, so at most <c>C × (0.8 × Retention / D − 1) + 1</c> jobs may be
    /// outstanding (never fewer than <c>C</c>, so the server stays busy). Before any job has completed, the limit is
    /// twice the number seen running (at least <see cref="InitialOutstanding"/>), which doubles as long as every job
    /// runs at once. Submits beyond the limit wait on the client (cheap, and visible), not in Segmind's queue.
    /// Only jobs someone is waiting for count: a batch that only submits is never held back.
    /// </para>
    /// <para>
    /// <b>Polls.</b> A queued job is polled when it can have ended at the earliest: the unfinished jobs submitted
    /// before it take the server's <c>C</c> slots first in, first out, each running only the shortest tenth of this
    /// batch's durations (what is left of it for running ones), so deep in the queue a job is polled about once. A
    /// running job is next polled a moment after that shortest tenth says it may end; from then on, on the normal
    /// back-off schedule. Before any job has completed, a queued job waits as long as the oldest running job has run.
    /// Once durations are known, a job submitted here is first polled when it can have ended, not seconds after its
    /// submit (<see cref="FirstPollDelay"/>).
    /// </para>
    /// </remarks>
    public sealed class BatchPlanner
    {
        /// <summary>Outstanding jobs allowed before any has been seen running or completing.</summary>
        public const int InitialOutstanding = 8;

        /// <summary>Share of the retention window a job should be collected within (the rest is margin for polls and slow answers).</summary>
        public const double RetentionUse = 0.8;

        /// <summary>From this share of its retention window on, a job that has not ended is at risk and named in a warning.</summary>
        public const double AtRiskShare = 0.75;

        private static readonly TimeSpan LongestQueuedPoll = TimeSpan.FromMinutes(30);


        /// <summary>A submit not yet followed by a wait still counts this long (the waiting cmdlet may not have seen it yet).</summary>
        private static readonly TimeSpan UntrackedGrace = TimeSpan.FromSeconds(30);

        private readonly object _lock = new object();
        private readonly TimeProvider _clock;
        private readonly Dictionary<string, Outstanding> _jobs = new Dictionary<string, Outstanding>(StringComparer.Ordinal);
        private readonly List<double> _durations = new List<double>();
        private readonly List<TaskCompletionSource<bool>> _waiters = new List<TaskCompletionSource<bool>>();
        private TimeSpan _retention = SegmindClientOptions.DefaultRetention;
        private int _maxRunning;
        private int _tracked;

        // A job answered QUEUED while others ran: the server holds a line, and the first-poll plan may use it.
        private bool _queueSeen;

        public BatchPlanner(TimeProvider? clock = null)
        {
            _clock = clock ?? TimeProvider.System;
        }

        /// <summary>How long Segmind keeps a job's status and result after its submission (the last client's setting).</summary>
        public TimeSpan Retention
        {
            get
            {
                lock (_lock)
                {
                    return _retention;
                }
            }

            set
            {
                if (value <= TimeSpan.Zero)
                {
                    throw new SegmindValidationException("Retention", "The retention window must be positive.");
                }

                lock (_lock)
                {
                    _retention = value;
                }

                Wake();
            }
        }

        /// <summary>Jobs counted as outstanding at Segmind now (followed and not ended, plus fresh submits).</summary>
        public int OutstandingCount
        {
            get
            {
                lock (_lock)
                {
                    return CountOutstandingLocked(_clock.GetUtcNow());
                }
            }
        }

        /// <summary>Outstanding jobs allowed now; see the remarks.</summary>
        public int Capacity
        {
            get
            {
                lock (_lock)
                {
                    return CapacityLocked();
                }
            }
        }

        /// <summary>The median duration (seconds of <c>inference_time</c>) of the jobs completed so far; null before any.</summary>
        public double? MedianDuration
        {
            get
            {
                lock (_lock)
                {
                    return QuantileLocked(0.5);
                }
            }
        }

        /// <summary>The most jobs seen running at once (Segmind's concurrency for this account, as observed).</summary>
        public int ObservedConcurrency
        {
            get
            {
                lock (_lock)
                {
                    return _maxRunning;
                }
            }
        }

        /// <summary>Waits until one more job may be outstanding within the retention window. Only submits call this.</summary>
        public async Task WaitForRoomAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                TaskCompletionSource<bool> waiter;
                lock (_lock)
                {
                    var now = _clock.GetUtcNow();
                    if (_tracked == 0 || CountOutstandingLocked(now) < CapacityLocked())
                    {
                        return;
                    }

                    waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _waiters.Add(waiter);
                }

                // Woken by any change; the grace of untracked submits ends on its own, so look again now and then.
                var recheck = _clock.Delay(TimeSpan.FromSeconds(5), cancellationToken);
                await Task.WhenAny(waiter.Task, recheck).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        /// <summary>A submit was accepted (counted for a short grace until someone follows it).</summary>
        public void OnSubmitted(string requestId, DateTimeOffset submittedAt)
        {
            lock (_lock)
            {
                if (!_jobs.ContainsKey(requestId))
                {
                    _jobs[requestId] = new Outstanding(submittedAt) { SubmittedHere = true };
                }

                if (_jobs.Count > 2 * _tracked + 64)
                {
                    // Submits nobody waits for (New-WanAnimateJob alone) are forgotten once their grace is over.
                    var now = _clock.GetUtcNow();
                    var stale = new List<string>();
                    foreach (var pair in _jobs)
                    {
                        if (!pair.Value.Tracked && now - pair.Value.SubmittedAt >= UntrackedGrace)
                        {
                            stale.Add(pair.Key);
                        }
                    }

                    foreach (var id in stale)
                    {
                        _jobs.Remove(id);
                    }
                }
            }
        }

        /// <summary>A job is being followed until it ends.</summary>
        public void OnTracked(string requestId)
        {
            lock (_lock)
            {
                if (!_jobs.TryGetValue(requestId, out var job))
                {
                    job = new Outstanding(_clock.GetUtcNow());
                    _jobs[requestId] = job;
                }

                if (!job.Tracked)
                {
                    job.Tracked = true;
                    _tracked++;
                }
            }
        }

        /// <summary>A status was read. Returns a warning to show when the job has just become at risk of expiring, else null.</summary>
        public string? OnStatus(JobStatus status)
        {
            if (status is null)
            {
                throw new ArgumentNullException(nameof(status));
            }

            string? warning = null;
            lock (_lock)
            {
                if (!_jobs.TryGetValue(status.RequestId, out var job))
                {
                    return null;
                }

                job.State = status.Status;
                var seen = _clock.GetUtcNow();
                if (status.Status == JobState.Processing && job.RunningSince is null)
                {
                    job.RunningSince = seen;
                }

                job.LastSeen = seen;
                job.ElapsedWhenSeen = status.Status == JobState.Processing ? RunningElapsedLocked(job, status, seen) : 0;
                var running = 0;
                foreach (var other in _jobs.Values)
                {
                    if (other.Tracked && other.State == JobState.Processing)
                    {
                        running++;
                    }
                }

                _maxRunning = Math.Max(_maxRunning, running);
                if (status.Status == JobState.Queued && running > 0)
                {
                    _queueSeen = true;
                }

                var now = _clock.GetUtcNow();
                var expires = job.SubmittedAt + _retention;
                if (!status.IsTerminal && !job.Warned && now >= job.SubmittedAt + TimeSpan.FromTicks((long)(_retention.Ticks * AtRiskShare)))
                {
                    job.Warned = true;
                    warning = string.Format(
                        CultureInfo.InvariantCulture,
                        "Job '{0}' is still {1} {2:0} minutes after it was submitted; Segmind keeps its status and result only until {3:u} ({4:0} minutes after submission), so it may expire before it can be collected. Save it the moment it completes (Save-WanAnimateOutput -RequestId {0}).",
                        status.RequestId,
                        status.Status,
                        (now - job.SubmittedAt).TotalMinutes,
                        expires.UtcDateTime,
                        _retention.TotalMinutes);
                }
            }

            Wake();
            return warning;
        }

        /// <summary>A followed job ended (or is no longer followed): it leaves the outstanding count, and its duration is learned.</summary>
        public void OnFinished(string requestId, JobStatus? last)
        {
            lock (_lock)
            {
                DateTimeOffset? since = null;
                if (_jobs.TryGetValue(requestId, out var job))
                {
                    _jobs.Remove(requestId);
                    since = job.SubmittedAt;
                    if (job.Tracked)
                    {
                        _tracked--;
                    }
                }

                if (last != null && last.Status == JobState.Completed && Duration(last, since) is double duration && duration > 0)
                {
                    _durations.Add(duration);
                    if (_durations.Count > 2048)
                    {
                        _durations.RemoveAt(0);
                    }
                }
            }

            Wake();
        }

        /// <summary>
        /// When to poll this job next, given its last status; <paramref name="scheduled"/> is the back-off schedule's
        /// choice, used as is until this batch has completed jobs to learn from (and never shortened).
        /// </summary>
        public TimeSpan NextPollDelay(JobStatus? last, TimeSpan scheduled)
        {
            if (last is null)
            {
                return scheduled;
            }

            lock (_lock)
            {
                var now = _clock.GetUtcNow();
                _jobs.TryGetValue(last.RequestId, out var job);
                var fast = QuantileLocked(0.1);
                var age = job is null ? 0 : job.ElapsedWhenSeen + (now - (job.LastSeen ?? now)).TotalSeconds;
                double wait;
                if (!(fast is double shortest) || shortest <= 0)
                {
                    // Nothing has completed yet, so no duration is known: a running job stays on the back-off
                    // schedule (its detection delay stays low); a queued job waits at least as long as the oldest
                    // running job has run, since none of them has ended yet and it cannot start before one does.
                    if (job is null || last.Status != JobState.Queued)
                    {
                        return scheduled;
                    }

                    wait = OldestRunningLocked(now);
                }
                else if (last.Status == JobState.Processing)
                {
                    // Due when the shortest tenth of this batch's durations says it may end, and a moment after.
                    var elapsed = job is null ? Seconds(last.Metrics, "inference_time") ?? 0 : age;
                    wait = shortest - elapsed + Margin(shortest);
                }
                else if (last.Status == JobState.Queued && job != null)
                {
                    // The earliest it can have ended: every unfinished job ahead of it (first in, first out, at the
                    // concurrency seen) runs only as long as the shortest tenth of durations. Deep in the queue that is
                    // far off, so it is polled rarely; an estimate that proves early just costs one more poll.
                    wait = (EarliestEndLocked(job, shortest, now) - now).TotalSeconds + Margin(shortest);
                }
                else
                {
                    return scheduled;
                }

                return CappedLocked(job, wait, scheduled, now);
            }
        }

        /// <summary>
        /// The first poll of a job submitted through this planner: once this batch has completed jobs, not before the
        /// job can have ended (the shortest tenth of durations after its submit, and, once the server has been seen to
        /// queue, after its turn in the server's slots), instead of a "QUEUED" answer a few seconds after the submit.
        /// A job followed without its submit being seen here (a CSV of jobs submitted earlier, maybe long done) is
        /// polled on <paramref name="scheduled"/>, as is any job before a duration is known.
        /// </summary>
        public TimeSpan FirstPollDelay(string requestId, TimeSpan scheduled)
        {
            lock (_lock)
            {
                if (!(QuantileLocked(0.1) is double shortest) || shortest <= 0
                    || !_jobs.TryGetValue(requestId, out var job) || !job.SubmittedHere)
                {
                    return scheduled;
                }

                // Only once the server has been seen to queue is the line ahead a real one; until then the job may
                // start at once, and all that is known is that it runs at least the shortest tenth of durations.
                var now = _clock.GetUtcNow();
                var end = _queueSeen ? EarliestEndLocked(job, shortest, now) : job.SubmittedAt + TimeSpan.FromSeconds(shortest);
                var wait = (end - now).TotalSeconds + Margin(shortest);
                return CappedLocked(job, wait, scheduled, now);
            }
        }

        /// <summary>A planned wait in seconds, bounded by the longest queued poll and the job's at-risk moment, never below <paramref name="scheduled"/>.</summary>
        private TimeSpan CappedLocked(Outstanding? job, double wait, TimeSpan scheduled, DateTimeOffset now)
        {
            // The estimate is an earliest end, so polling sooner would only hear "not yet"; but a job must be
            // read once it reaches its at-risk share of the retention window, so that the warning is on time.
            var longest = LongestQueuedPoll.TotalSeconds;
            if (job != null)
            {
                var atRisk = (job.SubmittedAt + TimeSpan.FromTicks((long)(_retention.Ticks * AtRiskShare)) - now).TotalSeconds;
                if (atRisk > 0)
                {
                    longest = Math.Min(longest, atRisk + 1);
                }
            }

            wait = Math.Min(wait, longest);
            var planned = TimeSpan.FromSeconds(Math.Max(0, wait));
            return planned > scheduled ? planned : scheduled;
        }

        /// <summary>
        /// When <paramref name="job"/> can have ended at the earliest: the unfinished jobs submitted before it take the
        /// server's slots in order, running ones for what is left of <paramref name="shortest"/>, queued ones for all of it.
        /// </summary>
        private DateTimeOffset EarliestEndLocked(Outstanding job, double shortest, DateTimeOffset now)
        {
            var ahead = new List<Outstanding>();
            var running = 0;
            foreach (var other in _jobs.Values)
            {
                if (!other.Tracked)
                {
                    continue;
                }

                if (other.State == JobState.Processing)
                {
                    running++;
                }

                if (!ReferenceEquals(other, job) && other.SubmittedAt <= job.SubmittedAt)
                {
                    ahead.Add(other);
                }
            }

            ahead.Sort((a, b) => a.SubmittedAt.CompareTo(b.SubmittedAt));
            var slots = Math.Max(1, Math.Max(_maxRunning, running));
            var duration = TimeSpan.FromSeconds(shortest);

            // Free times of the server's slots: running jobs' estimated ends first, then free slots at once.
            var free = new List<DateTimeOffset>();
            var queued = new List<Outstanding>();
            foreach (var other in ahead)
            {
                if (other.State == JobState.Processing && free.Count < slots)
                {
                    var seen = other.LastSeen ?? now;
                    var left = shortest - other.ElapsedWhenSeen - (now - seen).TotalSeconds;
                    free.Add(now + TimeSpan.FromSeconds(Math.Max(0, left)));
                }
                else
                {
                    queued.Add(other);
                }
            }

            // A job last seen queued may have started right after that sighting.
            DateTimeOffset StartBound(Outstanding queuedJob) => queuedJob.LastSeen ?? queuedJob.SubmittedAt;
            while (free.Count < slots)
            {
                if (queued.Count == 0)
                {
                    return Later(StartBound(job), now - duration) + duration;
                }

                free.Add(Later(StartBound(queued[0]), now - duration) + duration);
                queued.RemoveAt(0);
            }

            free.Sort();
            foreach (var other in queued)
            {
                // The earliest slot to free takes the next job in line.
                var slot = free[0];
                free.RemoveAt(0);
                var end = Later(slot, StartBound(other)) + duration;
                var index = free.BinarySearch(end);
                free.Insert(index < 0 ? ~index : index, end);
            }

            return Later(free[0], StartBound(job)) + duration;
        }

        private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

        /// <summary>A poll due at a predicted end comes this much after it: the prediction is not to the second.</summary>
        private static double Margin(double duration) => Math.Min(5, Math.Max(0.5, duration * 0.01));

        private double OldestRunningLocked(DateTimeOffset now)
        {
            var oldest = 0.0;
            foreach (var other in _jobs.Values)
            {
                if (other.Tracked && other.State == JobState.Processing)
                {
                    var seen = other.LastSeen ?? now;
                    oldest = Math.Max(oldest, other.ElapsedWhenSeen + (now - seen).TotalSeconds);
                }
            }

            return oldest;
        }

        /// <summary>How long the job has run, on this client's clock: the server's <c>inference_time</c>, never more than it saw since the submit, at least what it saw itself.</summary>
        private static double RunningElapsedLocked(Outstanding job, JobStatus status, DateTimeOffset now)
        {
            var elapsed = Seconds(status.Metrics, "inference_time") ?? 0;
            elapsed = Math.Min(elapsed, (now - job.SubmittedAt).TotalSeconds);
            if (job.RunningSince is DateTimeOffset since)
            {
                elapsed = Math.Max(elapsed, (now - since).TotalSeconds);
            }

            return elapsed;
        }

        private int CountOutstandingLocked(DateTimeOffset now)
        {
            var count = 0;
            foreach (var job in _jobs.Values)
            {
                if (job.Tracked || now - job.SubmittedAt < UntrackedGrace)
                {
                    count++;
                }
            }

            return count;
        }

        private int CapacityLocked()
        {
            var concurrency = Math.Max(1, _maxRunning);
            if (!(QuantileLocked(0.5) is double duration) || duration <= 0)
            {
                return Math.Max(InitialOutstanding, 2 * _maxRunning);
            }

            var usable = _retention.TotalSeconds * RetentionUse;
            var fits = concurrency * ((usable / duration) - 1) + 1;
            return (int)Math.Max(concurrency, Math.Min(int.MaxValue / 2, Math.Floor(fits)));
        }

        private double? QuantileLocked(double q)
        {
            if (_durations.Count == 0)
            {
                return null;
            }

            var sorted = _durations.ToArray();
            Array.Sort(sorted);
            var index = (int)Math.Min(sorted.Length - 1, Math.Max(0, Math.Floor(q * (sorted.Length - 1))));
            return sorted[index];
        }

        private void Wake()
        {
            List<TaskCompletionSource<bool>> woken;
            lock (_lock)
            {
                if (_waiters.Count == 0)
                {
                    return;
                }

                woken = new List<TaskCompletionSource<bool>>(_waiters);
                _waiters.Clear();
            }

            foreach (var waiter in woken)
            {
                waiter.TrySetResult(true);
            }
        }

        /// <summary>
        /// A completed job's duration on this client's clock: the server's <c>inference_time</c>, but never more than
        /// the time this client saw pass since the job was submitted (or given to it). A server on another time scale
        /// (an emulator) cannot then make the plan wait in its units.
        /// </summary>
        private double? Duration(JobStatus completed, DateTimeOffset? since)
        {
            var reported = Seconds(completed.Metrics, "inference_time");
            double? observed = since is DateTimeOffset start ? (_clock.GetUtcNow() - start).TotalSeconds : (double?)null;
            if (reported is double r && observed is double o)
            {
                return Math.Min(r, o);
            }

            return reported ?? observed;
        }

        private static double? Seconds(IReadOnlyDictionary<string, object?>? metrics, string name)
        {
            if (metrics is null || !metrics.TryGetValue(name, out var value) || value is null)
            {
                return null;
            }

            switch (value)
            {
                case double d:
                    return double.IsNaN(d) || double.IsInfinity(d) ? (double?)null : d;
                case long l:
                    return l;
                case int i:
                    return i;
                case decimal m:
                    return (double)m;
                case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed):
                    return parsed;
                default:
                    return null;
            }
        }

        private sealed class Outstanding
        {
            public Outstanding(DateTimeOffset submittedAt)
            {
                SubmittedAt = submittedAt;
            }

            public DateTimeOffset SubmittedAt { get; }

            public bool Tracked { get; set; }

            /// <summary>Its submit was seen here, so <see cref="SubmittedAt"/> is when its retention window started (on this client's clock).</summary>
            public bool SubmittedHere { get; set; }

            public string? State { get; set; }

            /// <summary>When this client first saw it PROCESSING (its own clock).</summary>
            public DateTimeOffset? RunningSince { get; set; }

            public bool Warned { get; set; }

            /// <summary>When its status was last read (this client's clock), and how long it had run then (0 unless running).</summary>
            public DateTimeOffset? LastSeen { get; set; }

            public double ElapsedWhenSeen { get; set; }
        }
    }
}

using System.Collections.Concurrent;

namespace Segmind.Emulator;

/// <summary>
/// The emulated GPU pool: <see cref="EmulatorOptions.Workers"/> jobs run at once, the rest wait in line. One loop
/// and three heaps (waiting, running, retained) instead of a timer or thread per job, so 10,000 queued jobs cost
/// little. Events are applied in emulated-time order, so the times stay exact even when the loop wakes late, and
/// every read first applies whatever is due, so a client never sees a state later than the clock says.
/// </summary>
internal sealed class JobScheduler : IAsyncDisposable
{
    // Upper bound on one sleep, so a live change of TimeScale or Workers is noticed quickly.
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MinSleep = TimeSpan.FromMilliseconds(1);

    private readonly object _lock = new();
    private readonly EmulatorOptions _options;
    private readonly ScaledClock _clock;
    private readonly EmulatorCounters _counters;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Job, (double EligibleAt, long Sequence)> _waiting = new();
    private readonly PriorityQueue<Job, double> _running = new();
    private readonly PriorityQueue<Job, double> _retained = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _sequence;
    private int _busy;
    private int _wakePending;
    private double _cursor;

    // Emulated instant of the next due event; lets readers skip the lock when nothing is due.
    private double _nextEventAt = double.PositiveInfinity;

    public JobScheduler(EmulatorOptions options, ScaledClock clock, EmulatorCounters counters)
    {
        _options = options;
        _clock = clock;
        _counters = counters;
        _loop = Task.Run(RunAsync);
    }

    public int QueuedCount
    {
        get { lock (_lock) return _jobs.Values.Count(job => job.State == JobState.Queued); }
    }

    public int ProcessingCount
    {
        get { lock (_lock) return _busy; }
    }

    public int RetainedCount => _jobs.Count;

    public Job Enqueue(string apiKey, WanAnimateInput input, decimal cost, string? failureReason, bool sync)
    {
        lock (_lock)
        {
            var now = _clock.Now;
            Advance(now);
            var job = new Job(Guid.NewGuid().ToString(), apiKey, input, cost, failureReason, sync, now, now + Math.Max(0, _options.QueueSeconds));
            _jobs[job.Id] = job;
            _waiting.Enqueue(job, (job.EligibleAt, _sequence++));
            // A queue of zero seconds with a free worker starts the job at once, before the submit is answered.
            Advance(now);
            UpdateNextEvent();
            Signal();
            return job;
        }
    }

    /// <summary>The job's current state, or null when the id is unknown or its result has expired.</summary>
    public JobView? Find(string requestId)
    {
        Pump();
        if (!_jobs.TryGetValue(requestId, out var job))
        {
            return null;
        }

        var view = job.View;
        return job.Removed ? null : view;
    }

    /// <summary>The job itself (for its input and its completion task), or null when unknown or expired.</summary>
    public Job? FindJob(string requestId)
    {
        Pump();
        return _jobs.TryGetValue(requestId, out var job) && !job.Removed ? job : null;
    }

    /// <summary>Drops a job now, as if its retention had run out.</summary>
    public bool Expire(string requestId)
    {
        lock (_lock)
        {
            if (!_jobs.TryGetValue(requestId, out var job))
            {
                return false;
            }

            if (job.State == JobState.Processing)
            {
                _busy--;
            }

            Remove(job);
            Advance(_clock.Now);
            UpdateNextEvent();
            Signal();
            return true;
        }
    }

    /// <summary>Finishes a queued or running job now (COMPLETED, or FAILED when it was going to fail).</summary>
    public bool Complete(string requestId)
    {
        lock (_lock)
        {
            var now = _clock.Now;
            Advance(now);
            if (!_jobs.TryGetValue(requestId, out var job) || job.IsFinished())
            {
                return false;
            }

            if (job.State == JobState.Processing)
            {
                _busy--;
            }
            else
            {
                job.StartedAt = now;
            }

            Finish(job, now);
            Advance(now);
            UpdateNextEvent();
            Signal();
            return true;
        }
    }

    /// <summary>Forgets every job; anyone waiting on one sees it cancelled.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var job in _jobs.Values)
            {
                job.Removed = true;
                job.Finished.TrySetCanceled();
            }

            _jobs.Clear();
            _waiting.Clear();
            _running.Clear();
            _retained.Clear();
            _busy = 0;
            UpdateNextEvent();
        }
    }

    /// <summary>Applies every event that is due by now.</summary>
    public void Pump()
    {
        var now = _clock.Now;
        if (now < Volatile.Read(ref _nextEventAt))
        {
            return;
        }

        lock (_lock)
        {
            Advance(_clock.Now);
            UpdateNextEvent();
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            TimeSpan sleep;
            lock (_lock)
            {
                var now = _clock.Now;
                Advance(now);
                var next = UpdateNextEvent();
                sleep = double.IsPositiveInfinity(next) ? MaxSleep : _clock.ToReal(next - now);
            }

            if (sleep > MaxSleep) sleep = MaxSleep;
            if (sleep < MinSleep) sleep = MinSleep;
            try
            {
                await _wake.WaitAsync(sleep, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            Interlocked.Exchange(ref _wakePending, 0);
        }
    }

    private void Signal()
    {
        // One pending wake-up is enough however many submits arrive meanwhile.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0 && !_stop.IsCancellationRequested)
        {
            try
            {
                _wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // Shutting down: the loop is gone and reads still apply due events themselves.
            }
        }
    }

    // Applies due events in emulated-time order. Caller holds _lock.
    private void Advance(double now)
    {
        while (true)
        {
            var completesAt = PeekRunning();
            var startsAt = _busy < _options.Workers ? Math.Max(PeekWaiting(), _cursor) : double.PositiveInfinity;
            var expiresAt = PeekRetained();
            var next = Math.Min(completesAt, Math.Min(startsAt, expiresAt));
            if (!(next <= now))
            {
                return;
            }

            _cursor = Math.Max(_cursor, next);
            if (next == completesAt)
            {
                var job = _running.Dequeue();
                _busy--;
                Finish(job, completesAt);
            }
            else if (next == startsAt)
            {
                var job = _waiting.Dequeue();
                job.State = JobState.Processing;
                job.StartedAt = startsAt;
                job.CompletesAt = startsAt + Math.Max(0, _options.ProcessingSeconds);
                _running.Enqueue(job, job.CompletesAt);
                _busy++;
                job.Publish();
            }
            else
            {
                var job = _retained.Dequeue();
                Remove(job);
            }
        }
    }

    private void Finish(Job job, double at)
    {
        job.State = job.FailureReason is null ? JobState.Completed : JobState.Failed;
        job.FinishedAt = at;
        // Segmind keeps status and results for an hour after submission: a job that ends after its window closes is
        // dropped the moment it ends (paid and lost). RetentionFrom = Completion counts from the end instead.
        var retention = Math.Max(0, _options.RetentionSeconds);
        job.ExpiresAt = _options.RetentionFrom == RetentionStart.Completion ? at + retention : Math.Max(at, job.SubmittedAt + retention);
        _retained.Enqueue(job, job.ExpiresAt);
        job.Publish();
        _counters.CountFinished(job.Id, job.State == JobState.Failed, _clock.WallTimeOf(at));
        job.Finished.TrySetResult(job.View);
        if (job.ExpiresAt <= at && _options.RetentionFrom == RetentionStart.Submission)
        {
            // Its window closed while it was still queued or running: gone the moment it ends.
            Remove(job);
        }
    }

    private void Remove(Job job)
    {
        if (job.Removed)
        {
            return;
        }

        job.Removed = true;
        _jobs.TryRemove(job.Id, out _);
        if (job.IsFinished())
        {
            _counters.CountExpired();
        }

        job.Finished.TrySetCanceled();
    }

    // The peeks drop heap entries made stale by Expire/Complete/Clear (lazy deletion).
    private double PeekRunning()
    {
        while (_running.TryPeek(out var job, out var at))
        {
            if (!job.Removed && job.State == JobState.Processing && job.CompletesAt == at) return at;
            _running.Dequeue();
        }

        return double.PositiveInfinity;
    }

    private double PeekWaiting()
    {
        while (_waiting.TryPeek(out var job, out var key))
        {
            if (!job.Removed && job.State == JobState.Queued) return key.EligibleAt;
            _waiting.Dequeue();
        }

        return double.PositiveInfinity;
    }

    private double PeekRetained()
    {
        while (_retained.TryPeek(out var job, out var at))
        {
            if (!job.Removed && job.ExpiresAt == at) return at;
            _retained.Dequeue();
        }

        return double.PositiveInfinity;
    }

    private double UpdateNextEvent()
    {
        var startsAt = _busy < _options.Workers ? Math.Max(PeekWaiting(), _cursor) : double.PositiveInfinity;
        var next = Math.Min(PeekRunning(), Math.Min(startsAt, PeekRetained()));
        Volatile.Write(ref _nextEventAt, next);
        return next;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        Clear();
        _wake.Dispose();
    }
}

internal static class JobExtensions
{
    public static bool IsFinished(this Job job) => job.State is JobState.Completed or JobState.Failed;
}

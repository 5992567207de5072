using Segmind.Client;

namespace Segmind.Client.Tests;

/// <summary>A job as the fake server sees it: when it starts processing and when it ends.</summary>
internal sealed class FakeJob
{
    public FakeJob(string requestId, DateTimeOffset processingAt, DateTimeOffset endsAt, bool fails = false)
    {
        RequestId = requestId;
        ProcessingAt = processingAt;
        EndsAt = endsAt;
        Fails = fails;
    }

    public string RequestId { get; }
    public DateTimeOffset ProcessingAt { get; }
    public DateTimeOffset EndsAt { get; }
    public bool Fails { get; }
    public int StatusPolls;
    public int ResultFetches;
    public DateTimeOffset? FirstPollAt;
    public DateTimeOffset? LastPollAt;
}

/// <summary>
/// Answers status and result reads from a table of fake jobs, on a manual clock, synchronously. Can refuse every
/// read for a while (a 5xx storm) and counts every read.
/// </summary>
internal sealed class FakeJobSource : IJobStatusSource
{
    private readonly ManualClock _clock;
    private readonly Dictionary<string, FakeJob> _jobs = new(StringComparer.Ordinal);

    public FakeJobSource(ManualClock clock)
    {
        _clock = clock;
    }

    /// <summary>Until then, every read throws what <see cref="StormError"/> makes.</summary>
    public DateTimeOffset StormUntil { get; set; } = DateTimeOffset.MinValue;

    public Func<Exception> StormError { get; set; } = () => new SegmindServerException("Service unavailable (simulated).", 503);

    public int StormFailures;

    public FakeJob Add(string requestId, TimeSpan processingAfter, TimeSpan endsAfter, bool fails = false)
    {
        var now = _clock.UtcNow;
        var job = new FakeJob(requestId, now + processingAfter, now + endsAfter, fails);
        _jobs.Add(requestId, job);
        return job;
    }

    public FakeJob this[string requestId] => _jobs[requestId];

    public Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _clock.UtcNow;
        if (!_jobs.TryGetValue(job.RequestId, out var fake))
        {
            throw new SegmindNotFoundException("No such request.", 404, job.RequestId);
        }

        fake.StatusPolls++;
        fake.FirstPollAt ??= now;
        fake.LastPollAt = now;
        if (now < StormUntil)
        {
            StormFailures++;
            throw StormError();
        }

        var state = State(fake, now);
        var error = state == JobState.Failed ? "The content was blocked (simulated)." : null;
        return Task.FromResult(new JobStatus(job.RequestId, state, error, new Dictionary<string, object?> { ["queue_time"] = 1.5 }, now));
    }

    public Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var now = _clock.UtcNow;
        var fake = _jobs[job.RequestId];
        fake.ResultFetches++;
        if (now < StormUntil)
        {
            StormFailures++;
            throw StormError();
        }

        var state = State(fake, now);
        var output = state == JobState.Completed ? "https://cdn.example.test/" + job.RequestId + ".mp4" : null;
        return Task.FromResult(new JobResult(job.RequestId, state, null, new Dictionary<string, object?> { ["inference_time"] = 400.0, ["cost"] = 0.5 }, output, now));
    }

    private static string State(FakeJob fake, DateTimeOffset now) =>
        now >= fake.EndsAt ? (fake.Fails ? JobState.Failed : JobState.Completed)
        : now >= fake.ProcessingAt ? JobState.Processing
        : JobState.Queued;
}

using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PollerTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static (ManualClock Clock, FakeJobSource Source, JobPoller Poller) Setup(int seed = 7, int maxConcurrentPolls = 8)
    {
        var clock = new ManualClock();
        var source = new FakeJobSource(clock);
        var poller = new JobPoller(source, new JobPollerOptions { RandomSeed = seed, MaxConcurrentPolls = maxConcurrentPolls }, clock);
        return (clock, source, poller);
    }

    [Fact]
    public async Task ATypicalFourHundredSecondJobCostsAtMostFortyPolls()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        var fake = source.Add("job-400", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(400));
        var task = poller.Track(new JobReference("job-400"), PollSchedule.Default, clock.UtcNow.AddHours(1));

        clock.Advance(TimeSpan.FromSeconds(399));
        Assert.False(task.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(60));

        var result = await task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal("https://cdn.example.test/job-400.mp4", result.Output);
        Assert.InRange(fake.StatusPolls, 10, 40);
        Assert.Equal(1, fake.ResultFetches);

        // Noticed within one longest (jittered) delay of finishing.
        var maxDelay = TimeSpan.FromTicks((long)(PollSchedule.Default.Max.Ticks * (1 + PollSchedule.Default.Jitter)));
        Assert.InRange(fake.LastPollAt!.Value, fake.EndsAt, fake.EndsAt + maxDelay);
        Assert.Equal(0, poller.TrackedCount);
    }

    [Fact]
    public void PollsFollowTheScheduleBackOff()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        var fake = source.Add("backoff", TimeSpan.Zero, TimeSpan.FromHours(2));
        var schedule = new PollSchedule(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), factor: 2, jitter: 0);
        poller.Track(new JobReference("backoff"), schedule, clock.UtcNow.AddHours(1));

        var pollTimes = new List<double>();
        var start = clock.UtcNow;
        var seen = 0;
        clock.AdvanceInSteps(TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(100), () =>
        {
            if (fake.StatusPolls != seen)
            {
                seen = fake.StatusPolls;
                pollTimes.Add((fake.LastPollAt!.Value - start).TotalSeconds);
            }
        });

        var gaps = pollTimes.Zip(pollTimes.Skip(1), (a, b) => Math.Round(b - a, 3)).ToList();
        Assert.Equal(new[] { 4.0, 8, 16, 30, 30 }, gaps.Take(5));
        Assert.InRange(pollTimes[0], 1, 3); // the first poll is spread around the first delay
    }

    [Fact]
    public void FirstPollsOfJobsTrackedTogetherAreSpreadOut()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        const int count = 1000;
        for (var i = 0; i < count; i++)
        {
            source.Add("spread-" + i, TimeSpan.Zero, TimeSpan.FromHours(1));
            poller.Track(new JobReference("spread-" + i), PollSchedule.Default, clock.UtcNow.AddHours(1));
        }

        var start = clock.UtcNow;
        clock.Advance(TimeSpan.FromSeconds(5));
        var firsts = Enumerable.Range(0, count).Select(i => (source["spread-" + i].FirstPollAt!.Value - start).TotalSeconds).ToList();

        // Between half and one and a half times the first delay (2 s), jitter included, and no crowd at any instant.
        Assert.InRange(firsts.Min(), 0.7, 1.5);
        Assert.InRange(firsts.Max(), 2.5, 3.7);
        var busiestTenthOfASecond = firsts.GroupBy(t => Math.Floor(t * 10)).Max(g => g.Count());
        Assert.True(busiestTenthOfASecond < count / 10, "busiest 100 ms held " + busiestTenthOfASecond + " first polls");
        Assert.True(firsts.Distinct().Count() > count * 9 / 10);
    }

    [Fact]
    public async Task AFastJobsTaskFinishesBeforeASlowJobsTask()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        source.Add("slow", TimeSpan.Zero, TimeSpan.FromSeconds(200));
        source.Add("fast", TimeSpan.Zero, TimeSpan.FromSeconds(30));
        var slow = poller.Track(new JobReference("slow"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        var fast = poller.Track(new JobReference("fast"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        var finished = new List<string>();
        var fastRecorded = fast.ContinueWith(_ => { lock (finished) finished.Add("fast"); }, TaskScheduler.Default);
        var slowRecorded = slow.ContinueWith(_ => { lock (finished) finished.Add("slow"); }, TaskScheduler.Default);

        clock.Advance(TimeSpan.FromSeconds(60));
        await fastRecorded.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(slow.IsCompleted);

        clock.Advance(TimeSpan.FromSeconds(200));
        await slowRecorded.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new[] { "fast", "slow" }, finished);
        Assert.True((await fast).RetrievedAt < (await slow).RetrievedAt);
    }

    [Fact]
    public async Task AServerErrorStormDoesNotFailJobs()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        source.StormUntil = clock.UtcNow.AddMinutes(5);
        var tasks = Enumerable.Range(0, 20).Select(i =>
        {
            source.Add("storm-" + i, TimeSpan.Zero, TimeSpan.FromSeconds(30 + i));
            return poller.Track(new JobReference("storm-" + i), PollSchedule.Default, clock.UtcNow.AddHours(1));
        }).ToList();

        clock.AdvanceInSteps(TimeSpan.FromMinutes(7), Second);

        Assert.True(source.StormFailures > 20 * 5);
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, r => Assert.Equal(JobState.Completed, r.Status));
    }

    [Fact]
    public async Task RateLimitsAndTimeoutsInsideTheClientOnlyDelayTheJob()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        var errors = new Queue<Exception>(new Exception[]
        {
            new SegmindRateLimitedException("Too many requests (simulated).", TimeSpan.FromSeconds(5)),
            new TaskCanceledException("The request timed out (simulated)."),
            new HttpRequestException("Connection reset (simulated)."),
            new SegmindProtocolException("Not JSON (simulated)."),
        });
        source.StormUntil = DateTimeOffset.MaxValue;
        source.StormError = () =>
        {
            var error = errors.Dequeue();
            if (errors.Count == 0)
            {
                source.StormUntil = DateTimeOffset.MinValue;
            }

            return error;
        };

        source.Add("flaky", TimeSpan.Zero, TimeSpan.FromSeconds(10));
        var task = poller.Track(new JobReference("flaky"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        clock.AdvanceInSteps(TimeSpan.FromMinutes(3), Second);

        Assert.Equal(JobState.Completed, (await task.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.Equal(4, source.StormFailures);
    }

    [Fact]
    public async Task TheDeadlineEndsTheWaitWithTheRequestIdAndLastStatus()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        var fake = source.Add("too-slow", TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30));
        var deadline = clock.UtcNow.AddSeconds(60);
        var task = poller.Track(new JobReference("too-slow"), PollSchedule.Default, deadline);

        clock.AdvanceInSteps(TimeSpan.FromMinutes(5), Second);

        var error = await Assert.ThrowsAsync<SegmindWaitTimeoutException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("too-slow", error.RequestId);
        Assert.Equal(JobState.Processing, error.LastStatus);
        Assert.Equal("WaitTimeout", error.ErrorId);
        Assert.Equal(deadline, fake.LastPollAt);
        Assert.Equal(0, poller.TrackedCount);
    }

    [Fact]
    public async Task AFailedJobThrowsJobFailedWithTheServersMessage()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        var fake = source.Add("doomed", TimeSpan.Zero, TimeSpan.FromSeconds(20), fails: true);
        var task = poller.Track(new JobReference("doomed"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        clock.AdvanceInSteps(TimeSpan.FromMinutes(1), Second);

        var error = await Assert.ThrowsAsync<SegmindJobFailedException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("doomed", error.RequestId);
        Assert.Equal("The content was blocked (simulated).", error.ServerMessage);
        Assert.Equal(0, fake.ResultFetches);
    }

    [Fact]
    public async Task AnUnknownRequestIdEndsAtOnceWithNotFound()
    {
        var (clock, _, poller) = Setup();
        using var __ = poller;
        var task = poller.Track(new JobReference("never-existed"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        clock.AdvanceInSteps(TimeSpan.FromSeconds(10), Second);
        var error = await Assert.ThrowsAsync<SegmindNotFoundException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("never-existed", error.RequestId);
    }

    [Fact]
    public async Task CancellingOneJobRemovesOnlyThatJob()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        source.Add("keep", TimeSpan.Zero, TimeSpan.FromSeconds(60));
        var dropped = source.Add("drop", TimeSpan.Zero, TimeSpan.FromSeconds(60));
        using var cancellation = new CancellationTokenSource();
        var keep = poller.Track(new JobReference("keep"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        var drop = poller.Track(new JobReference("drop"), PollSchedule.Default, clock.UtcNow.AddHours(1), cancellation.Token);

        clock.AdvanceInSteps(TimeSpan.FromSeconds(10), Second);
        Assert.Equal(2, poller.TrackedCount);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drop.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, poller.TrackedCount);
        var pollsAtCancel = dropped.StatusPolls;

        clock.AdvanceInSteps(TimeSpan.FromSeconds(90), Second);
        Assert.Equal(JobState.Completed, (await keep.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.Equal(pollsAtCancel, dropped.StatusPolls);
    }

    [Fact]
    public async Task ProgressHearsEveryStatusAndAThrowingHandlerDoesNotFailTheJob()
    {
        var (clock, source, poller) = Setup();
        using var _ = poller;
        source.Add("watched", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(40));
        var seen = new List<string>();
        var progress = new InlineProgress(status =>
        {
            seen.Add(status.Status);
            throw new InvalidOperationException("A broken progress display.");
        });

        var task = poller.Track(new JobReference("watched"), PollSchedule.Default, clock.UtcNow.AddHours(1), CancellationToken.None, progress);
        clock.AdvanceInSteps(TimeSpan.FromMinutes(2), Second);

        Assert.Equal(JobState.Completed, (await task.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.Equal(JobState.Queued, seen.First());
        Assert.Contains(JobState.Processing, seen);
        Assert.Equal(JobState.Completed, seen.Last());
    }

    [Fact]
    public async Task APollerLimitsItsOwnConcurrentPolls()
    {
        var source = new SlowSource();
        using var poller = new JobPoller(source, new JobPollerOptions { MaxConcurrentPolls = 3 });
        var schedule = PollSchedule.Fixed(TimeSpan.FromMilliseconds(5));
        var tasks = Enumerable.Range(0, 30).Select(i => poller.Track(new JobReference("slow-" + i), schedule, DateTimeOffset.UtcNow.AddMinutes(5))).ToList();

        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(results, r => Assert.Equal(JobState.Completed, r.Status));
        Assert.InRange(source.MaxConcurrent, 1, 3);
    }

    [Fact]
    public async Task DisposingThePollerEndsEveryTrackedJob()
    {
        var (clock, source, poller) = Setup();
        source.Add("orphan", TimeSpan.Zero, TimeSpan.FromMinutes(10));
        var task = poller.Track(new JobReference("orphan"), PollSchedule.Default, clock.UtcNow.AddHours(1));
        poller.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Throws<ObjectDisposedException>(() => { _ = poller.Track(new JobReference("late"), PollSchedule.Default, clock.UtcNow.AddHours(1)); });
    }

    private sealed class InlineProgress : IProgress<JobStatus>
    {
        private readonly Action<JobStatus> _report;

        public InlineProgress(Action<JobStatus> report) => _report = report;

        public void Report(JobStatus value) => _report(value);
    }

    /// <summary>A real-time source whose every read takes a little while: each job completes on its second poll.</summary>
    private sealed class SlowSource : IJobStatusSource
    {
        private readonly Dictionary<string, int> _polls = new();
        private int _concurrent;
        public int MaxConcurrent;

        public async Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _concurrent);
            lock (this)
            {
                MaxConcurrent = Math.Max(MaxConcurrent, now);
            }

            try
            {
                await Task.Delay(2, cancellationToken);
                int count;
                lock (_polls)
                {
                    _polls[job.RequestId] = count = _polls.GetValueOrDefault(job.RequestId) + 1;
                }

                return new JobStatus(job.RequestId, count >= 2 ? JobState.Completed : JobState.Processing, null, new Dictionary<string, object?>(), DateTimeOffset.UtcNow);
            }
            finally
            {
                Interlocked.Decrement(ref _concurrent);
            }
        }

        public Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken) =>
            Task.FromResult(new JobResult(job.RequestId, JobState.Completed, null, new Dictionary<string, object?>(), "https://cdn.example.test/out.mp4", DateTimeOffset.UtcNow));
    }
}

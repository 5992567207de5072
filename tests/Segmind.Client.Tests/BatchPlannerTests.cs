using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>Retention-aware admission, predictive polls and expiry warnings, on the manual clock and on the emulator's scaled clock.</summary>
public sealed class BatchPlannerTests : IClassFixture<EmulatorFixture>
{
    private static readonly IReadOnlyDictionary<string, object?> NoMetrics = new Dictionary<string, object?>();
    private readonly EmulatorFixture _emulator;

    public BatchPlannerTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public async Task AdmissionKeepsOnlyWhatCanBeCollectedInsideTheRetentionWindow()
    {
        var clock = new ManualClock();
        var planner = new BatchPlanner(clock) { Retention = TimeSpan.FromHours(1) };

        // Before anything ran: a small start, doubling with what is seen running.
        Assert.Equal(BatchPlanner.InitialOutstanding, planner.Capacity);
        for (var i = 0; i < 10; i++)
        {
            Track(planner, clock, "job" + i);
            planner.OnStatus(Status("job" + i, JobState.Processing, 0));
        }

        Assert.Equal(10, planner.ObservedConcurrency);
        Assert.Equal(20, planner.Capacity);

        // 400-second jobs, 10 at a time, an hour kept from submission: 10 × (0.8 × 3600 / 400 − 1) + 1 = 63 outstanding.
        clock.Advance(TimeSpan.FromSeconds(410));
        planner.OnFinished("job0", Status("job0", JobState.Completed, 400));
        Assert.Equal(400, planner.MedianDuration);
        Assert.Equal(63, planner.Capacity);

        // Full: the next submit waits on the client until a job ends.
        for (var i = 10; i < 63 + 1; i++)
        {
            Track(planner, clock, "job" + i);
        }

        Assert.Equal(63, planner.OutstandingCount);
        var room = planner.WaitForRoomAsync(CancellationToken.None);
        Assert.False(room.IsCompleted);
        planner.OnFinished("job1", Status("job1", JobState.Completed, 400));
        await room.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void JobsDeepInTheQueueArePolledRarelyAndRunningOnesWhereCompletionsAreLikely()
    {
        var clock = new ManualClock();
        var planner = new BatchPlanner(clock);
        var scheduled = TimeSpan.FromSeconds(13);

        // Nothing learned yet: the back-off schedule decides, except that a queued job is not polled before the
        // oldest running job has run that long again (it cannot end sooner).
        Track(planner, clock, "first");
        Assert.Equal(scheduled, planner.NextPollDelay(Status("first", JobState.Queued, 0), scheduled));
        Track(planner, clock, "early");
        clock.Advance(TimeSpan.FromSeconds(200));
        planner.OnStatus(Status("early", JobState.Processing, 200));
        Assert.Equal(scheduled, planner.NextPollDelay(Status("early", JobState.Processing, 200), scheduled));
        Assert.InRange(planner.NextPollDelay(Status("first", JobState.Queued, 0), scheduled).TotalSeconds, 199.9, 200.1);
        planner.OnFinished("early", null);
        planner.OnFinished("first", null);

        for (var i = 0; i < 40; i++)
        {
            Track(planner, clock, "q" + i);
            planner.OnStatus(Status("q" + i, i < 10 ? JobState.Processing : JobState.Queued, i < 10 ? 100 : 0));
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        foreach (var duration in new[] { 380.0, 400, 410, 420, 450 })
        {
            planner.OnFinished("done" + duration, Status("done" + duration, JobState.Completed, duration));
        }

        // 29 queued ahead, 10 running at a time, the shortest tenth 380 s: it cannot end before four waves have run
        // (the running ten, then three of queued ones), +1 % margin.
        Assert.InRange(planner.NextPollDelay(Status("q39", JobState.Queued, 0), scheduled).TotalSeconds, 1523, 1525);

        // The running ten were seen starting; 300 s on, they may end in 80 s. The first queued job takes the first
        // slot to free and can end 380 s after that (+1 % margin); the eleventh in line waits for a slot of its own.
        clock.Advance(TimeSpan.FromSeconds(300));
        Assert.InRange(planner.NextPollDelay(Status("q10", JobState.Queued, 0), scheduled).TotalSeconds, 462, 466);
        Assert.InRange(planner.NextPollDelay(Status("q20", JobState.Queued, 0), scheduled).TotalSeconds, 842, 846);

        // Running for 100 s, of jobs that take 380 s or more: nothing to see for 280 s (+1 % margin); near the end, the normal schedule.
        Track(planner, clock, "r");
        clock.Advance(TimeSpan.FromSeconds(100));
        planner.OnStatus(Status("r", JobState.Processing, 100));
        Assert.InRange(planner.NextPollDelay(Status("r", JobState.Processing, 100), scheduled).TotalSeconds, 283, 285);
        clock.Advance(TimeSpan.FromSeconds(279));
        planner.OnStatus(Status("r", JobState.Processing, 379));
        Assert.Equal(scheduled, planner.NextPollDelay(Status("r", JobState.Processing, 379), scheduled));

        // A server on another time scale cannot claim more running time than this client's clock allows.
        planner.OnStatus(Status("q1", JobState.Processing, 100_000));
        Assert.InRange(planner.NextPollDelay(Status("q1", JobState.Processing, 100_000), scheduled).TotalSeconds, 0, 13);
    }

    [Fact]
    public void AJobSubmittedHereIsFirstPolledWhenItCanHaveEndedNotSecondsAfterItsSubmit()
    {
        var clock = new ManualClock();
        var planner = new BatchPlanner(clock);
        var scheduled = TimeSpan.FromSeconds(2);

        // Nothing completed yet: no duration is known, so the schedule decides.
        Track(planner, clock, "first");
        Assert.Equal(scheduled, planner.FirstPollDelay("first", scheduled));
        clock.Advance(TimeSpan.FromSeconds(401));
        planner.OnStatus(Status("first", JobState.Processing, 400));
        planner.OnFinished("first", Status("first", JobState.Completed, 400));

        // Durations known, no queue seen yet: it may start at once, and cannot end before it has run the shortest tenth (+1 %).
        Track(planner, clock, "alone");
        Assert.InRange(planner.FirstPollDelay("alone", scheduled).TotalSeconds, 403.9, 404.1);

        // A job followed without its submit seen here (a CSV of jobs sent earlier, perhaps long done): the schedule.
        planner.OnTracked("from-a-csv");
        Assert.Equal(scheduled, planner.FirstPollDelay("from-a-csv", scheduled));
        planner.OnFinished("alone", null);
        planner.OnFinished("from-a-csv", null);

        // The server queues: 10 running (seen starting just now) and 20 queued. A new job waits for three waves
        // (the running ten, then the queued twenty, 10 at a time) and then runs its own (+1 %).
        for (var i = 0; i < 30; i++)
        {
            Track(planner, clock, "j" + i);
            planner.OnStatus(Status("j" + i, i < 10 ? JobState.Processing : JobState.Queued, 0));
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        Track(planner, clock, "new");
        Assert.InRange(planner.FirstPollDelay("new", scheduled).TotalSeconds, 1603, 1606);

        // However deep the line, a job is read before it is at risk of expiring (45 minutes of the hour).
        for (var i = 30; i < 80; i++)
        {
            Track(planner, clock, "j" + i);
        }

        Track(planner, clock, "deep");
        Assert.InRange(planner.FirstPollDelay("deep", scheduled).TotalMinutes, 29.9, 30.1);
    }

    [Fact]
    public void AJobAtRiskOfExpiringIsNamedInOneWarning()
    {
        var clock = new ManualClock();
        var planner = new BatchPlanner(clock) { Retention = TimeSpan.FromHours(1) };
        Track(planner, clock, "slow-job");

        clock.Advance(TimeSpan.FromMinutes(44));
        Assert.Null(planner.OnStatus(Status("slow-job", JobState.Queued, 0)));

        clock.Advance(TimeSpan.FromMinutes(2));
        var warning = planner.OnStatus(Status("slow-job", JobState.Queued, 0));
        Assert.NotNull(warning);
        Assert.Contains("slow-job", warning);
        Assert.Contains("Save-WanAnimateOutput -RequestId slow-job", warning);
        Assert.Null(planner.OnStatus(Status("slow-job", JobState.Processing, 10)));
    }

    [Fact]
    public void DurationsAreMeasuredOnTheClientsClockWhenTheServerRunsOnAnotherScale()
    {
        // An emulator at time scale 0.01 reports 400 "seconds" for a job this client saw run for 4.
        var clock = new ManualClock();
        var planner = new BatchPlanner(clock);
        Track(planner, clock, "scaled");
        planner.OnStatus(Status("scaled", JobState.Processing, 0));
        clock.Advance(TimeSpan.FromSeconds(4));
        planner.OnFinished("scaled", Status("scaled", JobState.Completed, 400));
        Assert.Equal(4, planner.MedianDuration!.Value, 3);
    }

    [Fact]
    public void RetentionComesFromTheOptionThenTheEnvironmentThenOneHour()
    {
        var saved = Environment.GetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable, null);
            Assert.Equal(TimeSpan.FromHours(1), new SegmindClientOptions().ResolveRetention());
            Environment.SetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable, "1800");
            Assert.Equal(TimeSpan.FromMinutes(30), new SegmindClientOptions().ResolveRetention());
            Environment.SetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable, "02:00:00");
            Assert.Equal(TimeSpan.FromHours(2), new SegmindClientOptions().ResolveRetention());
            Assert.Equal(TimeSpan.FromMinutes(5), new SegmindClientOptions { Retention = TimeSpan.FromMinutes(5) }.ResolveRetention());
            Environment.SetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable, "soon");
            var error = Assert.Throws<SegmindValidationException>(() => new SegmindClientOptions().ResolveRetention());
            Assert.Equal("Retention", error.Field);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SegmindClientOptions.RetentionEnvironmentVariable, saved);
        }
    }

    [Fact]
    public async Task ADeepBatchOnTheScaledClockIsCollectedBeforeRetentionFromSubmissionRunsOut()
    {
        // 30 rows, 3 at a time at the server, 400-second jobs: 10 waves, 4,000 emulated seconds, longer than the hour
        // Segmind keeps a job after submission. Submitted all at once, the last waves would expire; planned, none does.
        _emulator.Server.Options.Workers = 3;
        _emulator.Server.Options.ProcessingSeconds = 400;
        _emulator.Server.Options.RetentionSeconds = 3600;
        _emulator.Server.Options.RetentionFrom = RetentionStart.Submission;
        _emulator.Server.Options.TimeScale = 0.002;
        _emulator.Server.Reset();
        var time = _emulator.SharedScaledClock();

        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 }, time);
        using var client = _emulator.CreateClient(gate, options =>
        {
            options.TimeProvider = time;
            options.PollSchedule = PollSchedule.Default;
            options.RequestTimeout = TimeSpan.FromHours(20);
            options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
            options.Retry.MaxTotal = TimeSpan.FromHours(1);
            options.Retention = TimeSpan.FromHours(1);
        });

        // As Invoke-WanAnimate does: at most 4 submits at a time, each row then waits for its job.
        using var submitting = new SemaphoreSlim(4);
        var rows = Enumerable.Range(0, 30).Select(async i =>
        {
            SubmittedJob job;
            await submitting.WaitAsync();
            try
            {
                job = await client.SubmitAsync(TestClientOptions.Request("deep " + i));
            }
            finally
            {
                submitting.Release();
            }

            return await client.WaitAsync(job.ToReference(), TimeSpan.FromHours(3));
        });
        var results = await Task.WhenAll(rows).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.All(results, result => Assert.Equal(JobState.Completed, result.Status));
        Assert.Equal(30, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(0, _emulator.Server.Counters.Responses(404));
    }

    private static void Track(BatchPlanner planner, ManualClock clock, string id)
    {
        planner.OnSubmitted(id, clock.UtcNow);
        planner.OnTracked(id);
    }

    private static JobStatus Status(string id, string state, double inferenceTime) =>
        new(id, state, null, new Dictionary<string, object?> { ["queue_time"] = 0.0, ["inference_time"] = inferenceTime }, DateTimeOffset.UtcNow);
}

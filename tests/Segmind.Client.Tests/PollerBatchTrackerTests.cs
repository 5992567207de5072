using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PollerBatchTrackerTests
{
    [Fact]
    public void OutcomesArriveAsJobsEndWithCountsForOneProgressBar()
    {
        var clock = new ManualClock();
        var source = new FakeJobSource(clock);
        using var poller = new JobPoller(source, new JobPollerOptions { RandomSeed = 5 }, clock);
        source.Add("ok", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        source.Add("bad", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), fails: true);
        source.Add("late", TimeSpan.FromSeconds(5), TimeSpan.FromHours(2));

        using var tracker = new JobBatchTracker(poller, PollSchedule.Default, clock.UtcNow.AddMinutes(3));
        tracker.Add(new JobReference("late"), "row-3");
        tracker.Add(new JobReference("bad"), "row-2");
        tracker.Add(new JobReference("ok"), "row-1");

        var start = tracker.GetProgress();
        Assert.Equal(3, start.Total);
        Assert.Equal(3, start.NotYetPolled);
        Assert.Equal(0, start.PercentComplete);

        clock.Advance(TimeSpan.FromSeconds(20));
        var midway = tracker.GetProgress();
        Assert.Equal(3, midway.Processing);
        Assert.Equal(0, midway.Ended);

        var outcomes = new List<JobOutcome>();
        clock.AdvanceInSteps(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1), () =>
        {
            // Outcomes reach the tracker through thread-pool continuations: before the clock moves on, wait for every
            // job the poller has finished to be handed over, so a busy pool cannot reorder them.
            while (tracker.Remaining > poller.TrackedCount && tracker.TryTake(TimeSpan.FromSeconds(10), CancellationToken.None, out var outcome))
            {
                outcomes.Add(outcome);
            }
        });

        // TryTake may see an outcome a moment after the task ends; give stragglers a generous while.
        while (outcomes.Count < 3 && tracker.TryTake(TimeSpan.FromSeconds(10), CancellationToken.None, out var last))
        {
            outcomes.Add(last);
        }

        Assert.Equal(new object?[] { "row-1", "row-2", "row-3" }, outcomes.Select(o => o.Tag));
        Assert.True(outcomes[0].Succeeded);
        Assert.Equal("https://cdn.example.test/ok.mp4", outcomes[0].Result!.Output);
        Assert.IsType<SegmindJobFailedException>(outcomes[1].Error);
        Assert.Equal(JobState.Failed, outcomes[1].LastStatus!.Status);
        Assert.Equal(1.5, outcomes[1].LastStatus!.Metrics["queue_time"]);
        Assert.IsType<SegmindWaitTimeoutException>(outcomes[2].Error);

        var end = tracker.GetProgress();
        Assert.Equal((1, 1, 1, 0, 3, 100), (end.Completed, end.Failed, end.TimedOut, end.Running, end.Ended, end.PercentComplete));
        Assert.Equal(0, tracker.Remaining);
        Assert.False(tracker.TryTake(TimeSpan.Zero, CancellationToken.None, out _));
    }

    [Fact]
    public void DisposingTheTrackerStopsFollowingItsJobs()
    {
        var clock = new ManualClock();
        var source = new FakeJobSource(clock);
        using var poller = new JobPoller(source, null, clock);
        source.Add("abandoned", TimeSpan.Zero, TimeSpan.FromMinutes(10));
        var tracker = new JobBatchTracker(poller, PollSchedule.Default, clock.UtcNow.AddHours(1));
        tracker.Add(new JobReference("abandoned"));
        Assert.Equal(1, poller.TrackedCount);

        tracker.Dispose();
        Assert.Equal(0, poller.TrackedCount);
    }
}

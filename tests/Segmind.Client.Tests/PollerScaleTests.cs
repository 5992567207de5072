using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PollerScaleTests
{
    [Fact]
    public async Task TenThousandJobsAreTrackedInFlatMemoryAndAllComplete()
    {
        const int count = 10_000;
        var clock = new ManualClock();
        var source = new FakeJobSource(clock);
        var random = new Random(11);
        var references = new JobReference[count];
        for (var i = 0; i < count; i++)
        {
            // About seven minutes each, as wan-animate jobs take, with a spread.
            source.Add("bulk-" + i, TimeSpan.FromSeconds(random.Next(5, 60)), TimeSpan.FromSeconds(random.Next(300, 500)));
            references[i] = new JobReference("bulk-" + i);
        }

        using var poller = new JobPoller(source, new JobPollerOptions { RandomSeed = 3 }, clock);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var tasks = new Task<JobResult>[count];
        var deadline = clock.UtcNow.AddHours(1);
        for (var i = 0; i < count; i++)
        {
            tasks[i] = poller.Track(references[i], PollSchedule.Default, deadline);
        }

        clock.Advance(TimeSpan.FromSeconds(200));
        var during = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(count, poller.TrackedCount);
        Assert.True(during - before < 50L * 1024 * 1024, "tracking 10,000 jobs took " + ((during - before) / 1024 / 1024) + " MB");

        clock.AdvanceInSteps(TimeSpan.FromSeconds(400), TimeSpan.FromSeconds(1));

        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(results, r => Assert.Equal(JobState.Completed, r.Status));
        Assert.Equal(0, poller.TrackedCount);

        var polls = Enumerable.Range(0, count).Select(i => source["bulk-" + i].StatusPolls).ToList();
        Assert.True(polls.Max() <= 45, "most polls for one job: " + polls.Max());
        Assert.True(polls.Average() <= 40, "average polls per job: " + polls.Average());
        Assert.All(Enumerable.Range(0, count), i => Assert.Equal(1, source["bulk-" + i].ResultFetches));
    }
}

using Xunit;

namespace Segmind.Emulator.Tests;

public class SchedulerTests
{
    [Fact]
    public async Task Ten_thousand_jobs_on_twenty_workers_keep_exact_emulated_times()
    {
        const int jobCount = 10_000;
        const int workers = 20;
        const double processing = 10;
        var options = new EmulatorOptions
        {
            Workers = workers,
            QueueSeconds = 0,
            ProcessingSeconds = processing,
            RetentionSeconds = 1e12,
            TimeScale = 1e6, // time nearly stands still while the jobs are queued
        };
        var clock = new ScaledClock(() => options.TimeScale);
        var counters = new EmulatorCounters();
        await using var scheduler = new JobScheduler(options, clock, counters);
        var input = new WanAnimateInput("https://e/v.mp4", "https://e/i.png", "p", "replace", "480p", 1, false);

        var ids = new List<string>(jobCount);
        for (var i = 0; i < jobCount; i++)
        {
            ids.Add(scheduler.Enqueue("key", input, 0.25m, null, sync: false).Id);
        }

        Assert.Equal(workers, scheduler.ProcessingCount);
        Assert.Equal(jobCount - workers, scheduler.QueuedCount);

        // 500 rounds of 10 emulated seconds = 5,000 s, or 0.05 real seconds at this scale.
        options.TimeScale = 1e-5;
        using (var deadline = new CancellationTokenSource(EmulatorTestHelpers.Patience))
        {
            while (counters.JobsCompleted < jobCount)
            {
                await Task.Delay(10, deadline.Token);
            }
        }

        var views = ids.Select(id => scheduler.Find(id)!).ToList();
        var origin = views[0].SubmittedAt;
        for (var k = 0; k < jobCount; k++)
        {
            var view = views[k];
            Assert.Equal(JobState.Completed, view.State);
            // First in, first out: job k takes a worker freed by job k - 20, exactly 10 s later.
            Assert.Equal(origin + (k / workers) * processing, view.StartedAt!.Value, 3);
            Assert.Equal(processing, view.FinishedAt!.Value - view.StartedAt.Value, 6);
            Assert.NotNull(counters.CompletedAt(view.RequestId));
        }

        // Never more than the worker count at once.
        var events = views.SelectMany(view => new[] { (At: view.StartedAt!.Value, Delta: 1), (At: view.FinishedAt!.Value, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta);
        var running = 0;
        var peak = 0;
        foreach (var e in events)
        {
            running += e.Delta;
            peak = Math.Max(peak, running);
        }

        Assert.Equal(workers, peak);
    }

    [Fact]
    public void Clock_keeps_going_forward_when_the_scale_changes()
    {
        var scale = 1.0;
        var clock = new ScaledClock(() => scale);
        var before = clock.Now;
        scale = 1e-6; // a million times faster
        var after = clock.Now;
        Assert.True(after >= before);
        // A real second has not passed, so emulated time cannot have jumped by a million seconds already.
        Assert.True(after - before < 1e6);
        Assert.Equal(TimeSpan.FromSeconds(4), new ScaledClock(() => 0.01).ToReal(400));
    }
}

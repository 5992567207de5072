using System.Diagnostics;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using Xunit.Abstractions;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>A thousand jobs waited for at once, the way a piped batch does it: one WaitAsync per job, several clients.</summary>
public sealed class SharedPollerScaleTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;
    private readonly ITestOutputHelper _output;

    public SharedPollerScaleTests(EmulatorFixture emulator, ITestOutputHelper output)
    {
        _emulator = emulator;
        _output = output;
        emulator.Reset();
    }

    private EmulatorServer Server => _emulator.Server;

    [Fact]
    public async Task AThousandConcurrentWaitsAllCompleteWithinTheSchedulesPollBound()
    {
        const int count = 1000;
        const int clientCount = 4;

        // 30 emulated seconds are 300 ms here; enough workers that no job waits for a GPU.
        Server.Options.Workers = count;
        Server.Options.ProcessingSeconds = 30;
        var schedule = new PollSchedule(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(100));
        var pollGate = new RecordingGate();
        using var submitter = _emulator.CreateClient(new RecordingGate());
        var waiters = Enumerable.Range(0, clientCount)
            .Select(_ => _emulator.CreateClient(pollGate, options =>
            {
                options.PollSchedule = schedule;
                options.WaitTimeout = TimeSpan.FromMinutes(5);
            }))
            .ToArray();
        var statusBefore = Server.Counters.Requests(EndpointGroup.Status);
        var resultsBefore = Server.Counters.Requests(EndpointGroup.Result);

        try
        {
            // Each job is waited for as soon as it is submitted, as Invoke-WanAnimate does.
            var waits = new List<Task<WaitOutcome>>(count);
            for (var i = 0; i < count; i++)
            {
                var job = await submitter.SubmitAsync(TestClientOptions.Request("bulk " + i));
                waits.Add(WaitOneAsync(waiters[i % clientCount], job));
            }

            var outcomes = await Task.WhenAll(waits).WaitAsync(TimeSpan.FromMinutes(3));

            Assert.All(outcomes, outcome => Assert.Equal(JobState.Completed, outcome.Result.Status));
            Assert.All(outcomes, outcome => Assert.Equal(outcome.RequestId, outcome.Result.RequestId));
            Assert.Equal(0, JobPollerRegistry.TrackedCount(TestKeys.Key, Server.BaseUri));

            // No job was polled more often than its schedule allows in the time it was waited for.
            var bounds = outcomes.Select(outcome => MostPolls(schedule, new JobPollerOptions().FirstPollSpread, outcome.Elapsed) + 1).ToArray();
            var worst = outcomes.Select((outcome, i) => (outcome, bound: bounds[i])).OrderByDescending(x => x.outcome.Polls - x.bound).First();
            Assert.True(
                outcomes.Select((outcome, i) => outcome.Polls <= bounds[i]).All(ok => ok),
                $"job {worst.outcome.RequestId} was polled {worst.outcome.Polls} times in {worst.outcome.Elapsed.TotalMilliseconds:0} ms; the schedule allows {worst.bound}");

            // The emulator agrees: every job polled at least once, and no more status requests than the bounds add up to.
            var statusRequests = Server.Counters.Requests(EndpointGroup.Status) - statusBefore;
            Assert.InRange(statusRequests, count, bounds.Sum());
            Assert.Equal(count, Server.Counters.Requests(EndpointGroup.Result) - resultsBefore);

            // One poller for all four clients: never more polls at once than it allows (a loop per job would send hundreds).
            var poller = JobPollerRegistry.Shared(TestKeys.Key, Server.BaseUri);
            Assert.InRange(pollGate.MaxInside, 1, poller.MaxConcurrentPolls);

            _output.WriteLine(
                $"{count} jobs: {statusRequests} status requests ({(double)statusRequests / count:0.0} a job, most {outcomes.Max(o => o.Polls)}), " +
                $"at most {pollGate.MaxInside} at once, longest wait {outcomes.Max(o => o.Elapsed).TotalMilliseconds:0} ms");
        }
        finally
        {
            foreach (var waiter in waiters)
            {
                waiter.Dispose();
            }
        }
    }

    private static async Task<WaitOutcome> WaitOneAsync(SegmindClient client, SubmittedJob job)
    {
        var polls = new SharedPollerTests.PollCounter();
        var watch = Stopwatch.StartNew();
        var result = await client.WaitAsync(job.ToReference(), progress: polls);
        watch.Stop();
        return new WaitOutcome(job.RequestId, result, polls.Count, watch.Elapsed);
    }

    /// <summary>
    /// The most status polls a job can get in <paramref name="elapsed"/>: every delay at its shortest (jitter all
    /// the way down, the first poll at the low end of its spread). A slow machine only makes the real count smaller.
    /// </summary>
    private static int MostPolls(PollSchedule schedule, double firstPollSpread, TimeSpan elapsed)
    {
        var shortest = 1 - schedule.Jitter;
        var at = schedule.Initial.Ticks * shortest * (1 - firstPollSpread);
        var polls = 0;
        for (var attempt = 1; at <= elapsed.Ticks; attempt++)
        {
            polls++;
            at += Math.Min(schedule.Initial.Ticks * Math.Pow(schedule.Factor, attempt), schedule.Max.Ticks) * shortest;
        }

        return polls;
    }

    private sealed record WaitOutcome(string RequestId, JobResult Result, int Polls, TimeSpan Elapsed);
}

using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using Xunit.Abstractions;

namespace Segmind.Client.Tests;

/// <summary>The gate, the poller and the journal together, through the real client, over loopback HTTP.</summary>
public sealed class PollerEmulatorTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;
    private readonly ITestOutputHelper _output;

    public PollerEmulatorTests(EmulatorFixture emulator, ITestOutputHelper output)
    {
        _emulator = emulator;
        _output = output;
        _emulator.Reset();
    }

    [Fact]
    public async Task ABatchFinishesThroughServerErrorsWithEveryJobSubmittedOnceAndJournaled()
    {
        _emulator.Server.Options.FaultSeed = 17;
        _emulator.Server.Options.Faults.Status.ServerErrorProbability = 0.3;
        _emulator.Server.Options.Faults.Result.ServerErrorProbability = 0.3;
        _emulator.Server.Reset();

        using var folder = new TempFolder();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 });
        using var client = _emulator.CreateClient(gate, options => options.Retry.MaxAttempts = 2);
        using var journal = BatchJournal.Open(folder.File("batch.jsonl"));
        using var poller = new JobPoller(client, new JobPollerOptions { MaxConcurrentPolls = 4 });
        using var tracker = new JobBatchTracker(poller, client.Options.PollSchedule, DateTimeOffset.UtcNow.AddMinutes(2));

        const int rows = 12;
        for (var i = 0; i < rows; i++)
        {
            var request = TestClientOptions.Request("row " + i);
            var rowId = BatchJournal.RowIdentity(request, null);
            journal.RecordSubmitting(rowId, request);
            var job = await client.SubmitAsync(request);
            journal.RecordSubmitted(rowId, job);
            tracker.Add(job.ToReference(), rowId);
        }

        var outcomes = new List<JobOutcome>();
        while (outcomes.Count < rows && tracker.TryTake(TimeSpan.FromSeconds(60), CancellationToken.None, out var outcome))
        {
            Assert.True(outcome.Succeeded, outcome.Error?.ToString());
            journal.RecordOutcome((string)outcome.Tag!, outcome.Result!);
            outcomes.Add(outcome);
        }

        Assert.Equal(rows, outcomes.Count);
        Assert.Equal(rows, _emulator.Server.Counters.AcceptedSubmits);
        Assert.True(_emulator.Server.Counters.Faults(FaultKind.ServerError) > 0, "the storm never happened");

        var state = journal.ReadState();
        Assert.Equal(rows, state.Rows.Count);
        Assert.All(state.Rows.Values, row => Assert.Equal(JournalRowPhase.Completed, row.Phase));
        Assert.All(state.Rows.Values, row => Assert.StartsWith("http", row.Output));
        Assert.Equal(rows, tracker.GetProgress().Completed);
    }

    [Fact]
    public async Task AGateWithoutALimitLearnsTheServersLimitAndNoRowFails()
    {
        // 5 requests an emulated minute, far below what the client sends on loopback (the submits go 4 at a time),
        // so the emulator refuses and the gate must slow down rather than fail rows. Client and emulator share one
        // scaled clock (1 emulated second = 10 ms), so pauses, polls and retention agree.
        _emulator.Server.Options.RequestsPerMinute = 5;
        _emulator.Server.Reset();
        var time = _emulator.SharedScaledClock();

        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 }, time);
        using var client = _emulator.CreateClient(gate, options =>
        {
            options.Retry.MaxAttempts = 6;
            options.Retry.MaxDelay = TimeSpan.FromSeconds(60);
            options.Retry.MaxTotal = TimeSpan.FromMinutes(30);
            options.PollSchedule = PollSchedule.Default;
            options.RequestTimeout = TimeSpan.FromHours(1);
            options.TimeProvider = time;
        });
        using var poller = new JobPoller(client);

        var jobs = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.SubmitAsync(TestClientOptions.Request("limited " + i))));

        var deadline = time.GetUtcNow().AddMinutes(50);
        var results = await Task.WhenAll(jobs.Select(job => poller.Track(job.ToReference(), client.Options.PollSchedule, deadline)))
            .WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(results, result => Assert.Equal(JobState.Completed, result.Status));
        Assert.Equal(10, _emulator.Server.Counters.AcceptedSubmits);
        Assert.True(_emulator.Server.Counters.RateLimitedResponses > 0, "the emulator never refused: the test proves nothing");
        var status = gate.GetStatus();
        _output.WriteLine("gate: " + status + "; emulator refused " + _emulator.Server.Counters.RateLimitedResponses + " of " + _emulator.Server.Counters.TotalRequests);
        Assert.True(status.RateLimitedCount > 0);
        Assert.NotNull(status.EffectiveRequestsPerMinute);
        Assert.InRange(gate.LearnedRequestsPerMinute!.Value, 1, 10);
    }
}

using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// A blocking v1 run keeps its connection open for the whole job (about 7 minutes): it must not keep one of the
/// account's in-flight slots that long, or polls through the shared poller would stall behind it.
/// </summary>
public sealed class SharedPollerBlockingRunTests : IClassFixture<EmulatorFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly EmulatorFixture _emulator;

    public SharedPollerBlockingRunTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private EmulatorServer Server => _emulator.Server;

    [Fact]
    public async Task ABlockingRunInFlightLeavesTheOnlySlotToOtherRequests()
    {
        // Jobs end only when the test completes them, so the run is certainly still in flight below.
        Server.Options.ProcessingSeconds = 100_000_000;
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 1 });
        using var client = _emulator.CreateClient(gate);
        using var folder = new TempFolder();

        var run = client.RunAsync(TestClientOptions.Request("blocking"), folder.File("run.mp4"));
        await SharedPollerTests.EventuallyAsync(() => Server.Counters.AcceptedSyncRuns == 1, "the run to be accepted");
        var runId = Server.Counters.AcceptedRequestIds.Single();

        // With the single slot held by the run, each of these would wait until the test gives up.
        var credits = await client.GetCreditsAsync().WaitAsync(Patience);
        var job = await client.SubmitAsync(TestClientOptions.Request("alongside")).WaitAsync(Patience);
        var polls = new SharedPollerTests.PollCounter();
        var wait = client.WaitAsync(job.ToReference(), Timeout.InfiniteTimeSpan, polls);
        await SharedPollerTests.EventuallyAsync(() => polls.Count >= 2, "the job to be polled");
        Server.CompleteJob(job.RequestId);
        var result = await wait.WaitAsync(Patience);

        Assert.False(run.IsCompleted, "the run ended early: the test proves nothing");
        Assert.Equal(0, gate.GetStatus().InFlight);
        Assert.Equal(999.75, credits.Credits);
        Assert.Equal(JobState.Completed, result.Status);

        Server.CompleteJob(runId);
        var saved = await run.WaitAsync(Patience);
        Assert.Equal(runId, saved.RequestId);
        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(saved.OutputPath));
        Assert.Equal(0, gate.GetStatus().InFlight);
    }
}

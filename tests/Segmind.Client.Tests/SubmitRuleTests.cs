using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// Injected faults: a submit (every one a new paid job) is repeated only when it provably was not accepted,
/// while status, result, credits and uploads are retried through every transient failure.
/// </summary>
public sealed class SubmitRuleTests : EmulatorTest
{
    public SubmitRuleTests(EmulatorFixture emulator)
        : base(emulator)
    {
    }

    private FaultOptions Faults => Server.Options.Faults;

    /// <summary>Switches every fault off when the <paramref name="nth"/> request of <paramref name="kind"/> enters the gate.</summary>
    private void HealOnAttempt(RequestKind kind, int nth) =>
        Gate.OnEnter = (entered, count) =>
        {
            if (entered == kind && count == nth)
            {
                Faults.Clear();
            }
        };

    [Fact]
    public async Task ADropAfterTheSubmitWasAcceptedIsNotResent()
    {
        Faults.Submit.DropConnectionProbability = 1;
        Faults.Submit.DropAfterAcceptProbability = 1;
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("may have been submitted", error.Message);
        Assert.Contains("not re-sent automatically", error.Message);
        Assert.Equal("SubmitOutcomeUnknown", error.ErrorId);
        Assert.False(error.IsTransient);
        Assert.Equal(1, Server.Counters.AcceptedSubmits);
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
    }

    [Fact]
    public async Task ADropBeforeAcceptanceIsStillNotResentBecauseTheClientCannotKnow()
    {
        Faults.Submit.DropConnectionProbability = 1;
        Faults.Submit.DropAfterAcceptProbability = 0;
        using var client = Client();

        await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(0, Server.Counters.AcceptedSubmits);
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Submit));
    }

    [Fact]
    public async Task AServerErrorOnASentSubmitIsNotResent()
    {
        Faults.Submit.ServerErrorProbability = 1;
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains(error.StatusCode, new int?[] { 500, 502, 503, 504 });
        Assert.NotNull(error.ServerMessage);
        Assert.Equal(0, Server.Counters.AcceptedSubmits);
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
    }

    [Fact]
    public async Task ASubmitThatTimesOutIsNotResent()
    {
        Faults.Submit.SlowResponseProbability = 1;
        Faults.Submit.SlowResponseSeconds = 30;
        using var client = Client(options => options.RequestTimeout = TimeSpan.FromMilliseconds(300));

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("may have been submitted", error.Message);
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(0, Server.Counters.AcceptedSubmits);
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
    }

    [Fact]
    public async Task ARateLimitedSubmitIsRetriedAndAcceptedExactlyOnce()
    {
        Faults.Submit.RateLimitFaultProbability = 1;
        Gate.OnRateLimited = _ => Faults.Clear();
        using var client = Client();

        var job = await client.SubmitAsync(TestClientOptions.Request());

        Assert.False(string.IsNullOrEmpty(job.RequestId));
        Assert.Equal(1, Server.Counters.AcceptedSubmits);
        Assert.Equal(2, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(1, Server.Counters.RateLimitedResponses);
        var reported = Assert.Single(Gate.RateLimitReports);

        // The emulator asks for about a second; the client clamps hints to 4 x MaxDelay (200 ms here).
        Assert.NotNull(reported);
        Assert.InRange(reported!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task ASubmitRateLimitedOnEveryAttemptGivesUpWithoutAJob()
    {
        Faults.Submit.RateLimitFaultProbability = 1;
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindRateLimitedException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(429, error.StatusCode);
        Assert.NotNull(error.RetryAfter);
        Assert.True(error.IsTransient);
        Assert.Equal(4, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(4, Gate.RateLimitReports.Count);
        Assert.Equal(0, Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task ABlockingRunDroppedAfterAcceptanceIsNotRerun()
    {
        Faults.Sync.DropConnectionProbability = 1;
        Faults.Sync.DropAfterAcceptProbability = 1;
        using var client = Client();
        using var folder = new TempFolder();

        await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4")));

        Assert.Equal(1, Server.Counters.AcceptedSyncRuns);
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Sync));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task ABlockingRunAnsweredWithAServerErrorIsNotRerun()
    {
        Faults.Sync.ServerErrorProbability = 1;
        using var client = Client();
        using var folder = new TempFolder();

        await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4")));

        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Sync));
    }

    [Fact]
    public async Task ARateLimitedBlockingRunIsRetried()
    {
        Faults.Sync.RateLimitFaultProbability = 1;
        Gate.OnRateLimited = _ => Faults.Clear();
        using var client = Client();
        using var folder = new TempFolder();

        var run = await client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4"));

        Assert.Equal(OutputVideo.Asset.Length, run.Length);
        Assert.Equal(1, Server.Counters.AcceptedSyncRuns);
        Assert.Equal(2, Server.Counters.Requests(EndpointGroup.Sync));
    }

    [Theory]
    [InlineData("server error")]
    [InlineData("drop")]
    [InlineData("slow")]
    public async Task AStatusPollSurvivesATransientFailure(string fault)
    {
        using var client = Client(options => options.RequestTimeout = TimeSpan.FromMilliseconds(fault == "slow" ? 500 : 20_000));
        var job = await client.SubmitAsync(TestClientOptions.Request());
        switch (fault)
        {
            case "server error":
                Faults.Status.ServerErrorProbability = 1;
                break;
            case "drop":
                Faults.Status.DropConnectionProbability = 1;
                break;
            default:
                Faults.Status.SlowResponseProbability = 1;
                Faults.Status.SlowResponseSeconds = 30;
                break;
        }

        HealOnAttempt(RequestKind.Status, 2);

        var status = await client.GetStatusAsync(job.ToReference());

        Assert.Equal(job.RequestId, status.RequestId);
        Assert.Equal(2, Server.Counters.Requests(EndpointGroup.Status));
        Assert.Equal(2, Gate.Count(RequestKind.Status));
    }

    [Fact]
    public async Task ARateLimitedPollWaitsAsToldAndSlowsTheGate()
    {
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        Faults.Status.RateLimitFaultProbability = 1;
        Gate.OnRateLimited = _ => Faults.Clear();

        var status = await client.GetStatusAsync(job.ToReference());

        Assert.Equal(job.RequestId, status.RequestId);
        Assert.Single(Gate.RateLimitReports);
        Assert.Equal(2, Gate.Count(RequestKind.Status));
    }

    [Fact]
    public async Task RetriesOfAPollAreBoundedByMaxAttempts()
    {
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        Faults.Status.ServerErrorProbability = 1;

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.GetStatusAsync(job.ToReference()));

        Assert.True(error.IsTransient);
        Assert.Equal(job.RequestId, error.RequestId);
        Assert.Equal(4, Server.Counters.Requests(EndpointGroup.Status));
    }

    [Fact]
    public async Task WaitingRidesThroughFlakyPollsAndResults()
    {
        // Seeded, and rare enough that four failures in a row (the retry budget) are practically impossible.
        Server.Options.FaultSeed = 1234;
        Server.Reset();
        Faults.Status.ServerErrorProbability = 0.15;
        Faults.Result.DropConnectionProbability = 0.15;
        Faults.Result.DropAfterAcceptProbability = 1;
        using var client = Client();

        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference());

        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(1, Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task CreditsAndUploadsAreRetriedLikeReads()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var image = folder.File("character.jpg");
        await File.WriteAllBytesAsync(image, new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 });
        Faults.Credits.ServerErrorProbability = 1;
        Faults.Upload.DropConnectionProbability = 1;
        Faults.Upload.DropAfterAcceptProbability = 1;
        Gate.OnEnter = (kind, count) =>
        {
            if (count == 2 && kind is RequestKind.Credits or RequestKind.Upload)
            {
                Faults.For(kind == RequestKind.Credits ? EndpointGroup.Credits : EndpointGroup.Upload).ServerErrorProbability = 0;
                Faults.For(kind == RequestKind.Credits ? EndpointGroup.Credits : EndpointGroup.Upload).DropConnectionProbability = 0;
            }
        };

        var credits = await client.GetCreditsAsync();
        var urls = await client.UploadFilesAsync(new[] { image });

        Assert.Equal(1000.0, credits.Credits);
        Assert.Single(urls);
        Assert.Equal(2, Server.Counters.Requests(EndpointGroup.Credits));
        Assert.Equal(2, Server.Counters.Requests(EndpointGroup.Upload));
    }
}

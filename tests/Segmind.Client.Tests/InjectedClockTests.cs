using Microsoft.Extensions.Time.Testing;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The client's timeouts and back-off run on SegmindClientOptions.TimeProvider, not on the real clock.</summary>
public sealed class InjectedClockTests
{
    [Fact]
    public async Task ARequestTimeoutRunsOnTheInjectedClock()
    {
        await using var stub = new StubServer(async (request, stream, ct) => await Task.Delay(Timeout.Infinite, ct));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var gate = new RequestGate(new RequestGateOptions(), time);
        using var client = ClientOn(stub, time, gate, requestTimeout: TimeSpan.FromMinutes(5));

        var poll = client.GetStatusAsync(new JobReference("job-1"));
        await WaitUntil(() => stub.Requests.Count == 1);
        Assert.False(poll.IsCompleted);

        // Five fake minutes pass in no real time: the request times out now, not five real minutes from now.
        time.Advance(TimeSpan.FromMinutes(5));
        var error = await Assert.ThrowsAsync<SegmindServerException>(() => poll.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("within", error.Message);
    }

    [Fact]
    public async Task RetryBackOffAndTheRateLimitPauseWaitOnTheInjectedClock()
    {
        var answers = 0;
        await using var stub = new StubServer((request, stream, ct) =>
            Interlocked.Increment(ref answers) == 1
                ? StubServer.WriteAsync(stream, 429, "application/json", "{\"error\":\"slow down\"}"u8.ToArray(), new[] { ("Retry-After", "120") }, ct)
                : StubServer.WriteAsync(stream, 200, "application/json", "{\"status\":\"QUEUED\"}"u8.ToArray(), null, ct));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var gate = new RequestGate(new RequestGateOptions(), time);
        using var client = ClientOn(stub, time, gate, retry: new RetryOptions { MaxAttempts = 3, MaxDelay = TimeSpan.FromMinutes(1), MaxTotal = TimeSpan.FromMinutes(10) });

        var poll = client.GetStatusAsync(new JobReference("job-1"));
        await WaitUntil(() => gate.PausedUntil is not null);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(120), gate.PausedUntil);

        // Nothing is re-sent while the fake clock stands still, whatever the real time.
        await Task.Delay(200);
        Assert.Single(stub.Requests);

        await AdvanceUntilDone(time, poll, TimeSpan.FromSeconds(10), steps: 30);

        var status = await poll.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(JobState.Queued, status.Status);
        Assert.Equal(2, stub.Requests.Count);
    }

    [Fact]
    public async Task AStalledDownloadIsCutOffAfterTheIdleTimeOnTheInjectedClock()
    {
        var bodyStarted = new TaskCompletionSource();
        await using var stub = new StubServer(async (request, stream, ct) =>
        {
            // A tenth of the declared body, then nothing: only the idle watchdog can end this download.
            await StubServer.WriteRawAsync(stream, 200, "video/mp4", new byte[100_000], 1_000_000, null, ct);
            bodyStarted.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var gate = new RequestGate(new RequestGateOptions(), time);
        using var client = ClientOn(stub, time, gate, requestTimeout: TimeSpan.FromMinutes(10));
        using var folder = new TempFolder();
        var result = new JobResult("job-1", JobState.Completed, null, new Dictionary<string, object?>(), new Uri(stub.BaseUri, "outputs/v.mp4").AbsoluteUri, time.GetUtcNow());

        var download = client.DownloadOutputAsync(result, folder.File("v.mp4"));
        await bodyStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Nine emulated minutes without data are within the ten allowed: still downloading.
        time.Advance(TimeSpan.FromMinutes(9));
        await Task.Delay(100);
        Assert.False(download.IsCompleted);

        // Past ten emulated minutes of silence the watchdog ends it, in no real time (a real-clock timer would wait ten real minutes).
        await AdvanceUntilDone(time, download, TimeSpan.FromMinutes(1), steps: 30);

        var error = await Assert.ThrowsAsync<SegmindServerException>(() => download.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stalled", error.Message);
        Assert.Single(stub.Requests);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task SettlingASubmitOnTheWireIsBoundedOnTheInjectedClock()
    {
        var onWire = new TaskCompletionSource();
        await using var stub = new StubServer(async (request, stream, ct) =>
        {
            onWire.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var gate = new RequestGate(new RequestGateOptions(), time);
        using var client = ClientOn(stub, time, gate, requestTimeout: TimeSpan.FromHours(1));
        using var submitter = new JournaledSubmitter(client, journal: null, ledger: null, throttleLimit: 1);
        using var stop = new CancellationTokenSource();

        var submitting = submitter.SubmitAsync(new SubmitRow(1, "settle-row", TestClientOptions.Request("settle")), stop.Token);
        await onWire.Task.WaitAsync(TimeSpan.FromSeconds(30));
        stop.Cancel();

        // The submit on the wire is never answered: settling gives up after its bound of emulated time, not real time.
        var started = time.GetUtcNow();
        var settling = Task.Run(() => submitter.Settle(TimeSpan.FromMinutes(5)));
        await AdvanceUntilDone(time, settling, TimeSpan.FromSeconds(30), steps: 60);

        Assert.False(await settling.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(time.GetUtcNow() - started >= TimeSpan.FromMinutes(5));
        Assert.False(submitting.IsCompleted);
    }

    /// <summary>A client whose every delay and timeout runs on <paramref name="time"/>; one attempt per request unless told.</summary>
    private static SegmindClient ClientOn(StubServer stub, FakeTimeProvider time, RequestGate gate, TimeSpan? requestTimeout = null, RetryOptions? retry = null) =>
        new(new SegmindClientOptions
        {
            BaseUri = stub.BaseUri,
            ApiKey = TestKeys.Key,
            RequestGate = gate,
            RequestTimeout = requestTimeout ?? new SegmindClientOptions().RequestTimeout,
            Retry = retry ?? new RetryOptions { MaxAttempts = 1 },
            TimeProvider = time,
        });

    /// <summary>Moves the fake clock on a step at a time, giving the client a moment of real time after each, until the task ends.</summary>
    private static async Task AdvanceUntilDone(FakeTimeProvider time, Task task, TimeSpan step, int steps)
    {
        for (var i = 0; i < steps && !task.IsCompleted; i++)
        {
            time.Advance(step);
            await Task.Delay(20);
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}

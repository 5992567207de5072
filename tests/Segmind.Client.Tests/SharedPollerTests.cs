using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// Every <see cref="SegmindClient.WaitAsync"/> of the process goes through one poller per account and address,
/// whichever client asks, and keeps its contract: results, FAILED, timeouts and cancellation.
/// </summary>
public sealed class SharedPollerTests : IClassFixture<EmulatorFixture>
{
    /// <summary>About eleven real days at the fixture's time scale: such a job ends only when a test completes it.</summary>
    private const double EndlessSeconds = 100_000_000;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly EmulatorFixture _emulator;

    public SharedPollerTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private EmulatorServer Server => _emulator.Server;

    private int Tracked(string secret = TestKeys.Secret) => JobPollerRegistry.TrackedCount(new ApiKey(secret), Server.BaseUri);

    private SegmindClient Client(IRequestGate gate, Action<SegmindClientOptions>? adjust = null) => _emulator.CreateClient(gate, adjust);

    [Fact]
    public void OnePollerServesEachAccountAndAddress()
    {
        var poller = JobPollerRegistry.Shared(TestKeys.Key, Server.BaseUri);

        // The same account at the same scheme, host and port: the path and the key object do not matter.
        Assert.Same(poller, JobPollerRegistry.Shared(new ApiKey(TestKeys.Secret), new Uri(Server.BaseUri, "v2/")));
        Assert.NotSame(poller, JobPollerRegistry.Shared(new ApiKey(TestKeys.Other), Server.BaseUri));
        var otherPort = new UriBuilder(Server.BaseUri) { Port = Server.BaseUri.Port == 1 ? 2 : 1 }.Uri;
        Assert.NotSame(poller, JobPollerRegistry.Shared(TestKeys.Key, otherPort));

        // A shared poller has no client of its own: only waits, each bringing its client, may use it.
        Assert.Throws<InvalidOperationException>(() => { _ = poller.Track(new JobReference("any"), PollSchedule.Default, DateTimeOffset.MaxValue); });
    }

    [Fact]
    public async Task WaitsFromSeveralClientsShareOnePollerAndEachJobIsPolledThroughItsOwnClient()
    {
        Server.Options.ProcessingSeconds = EndlessSeconds;
        var gates = new[] { new RecordingGate(), new RecordingGate(), new RecordingGate() };
        var clients = new[]
        {
            Client(gates[0]),
            Client(gates[1], options => options.Retry.MaxAttempts = 2),
            Client(gates[2], options => options.PollSchedule = new PollSchedule(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(60))),
        };
        var otherGate = new RecordingGate();
        using var otherAccount = Client(otherGate, options => options.ApiKey = new ApiKey(TestKeys.Other));

        try
        {
            var waits = new List<(int Client, SubmittedJob Job, PollCounter Polls, Task<JobResult> Wait)>();
            for (var i = 0; i < 9; i++)
            {
                var owner = i % clients.Length;
                var job = await clients[owner].SubmitAsync(TestClientOptions.Request("shared " + i));
                var polls = new PollCounter();
                waits.Add((owner, job, polls, clients[owner].WaitAsync(job.ToReference(), Timeout.InfiniteTimeSpan, polls)));
            }

            var otherJob = await otherAccount.SubmitAsync(TestClientOptions.Request("other account"));
            var otherPolls = new PollCounter();
            var otherWait = otherAccount.WaitAsync(otherJob.ToReference(), Timeout.InfiniteTimeSpan, otherPolls);

            await EventuallyAsync(() => waits.All(w => w.Polls.Count >= 2) && otherPolls.Count >= 2, "every job to be polled twice");
            Assert.Equal(9, Tracked());
            Assert.Equal(1, Tracked(TestKeys.Other));
            Assert.All(waits, w => Assert.False(w.Wait.IsCompleted));

            foreach (var wait in waits)
            {
                Server.CompleteJob(wait.Job.RequestId);
            }

            Server.CompleteJob(otherJob.RequestId);
            var results = await Task.WhenAll(waits.Select(w => w.Wait)).WaitAsync(Patience);
            var otherResult = await otherWait.WaitAsync(Patience);

            Assert.Equal(waits.Select(w => w.Job.RequestId), results.Select(r => r.RequestId));
            Assert.All(results, r => Assert.Equal(JobState.Completed, r.Status));
            Assert.Equal(JobState.Completed, otherResult.Status);
            Assert.Equal(0, Tracked());
            Assert.Equal(0, Tracked(TestKeys.Other));

            // Each poll went through the gate (hence the retries and key) of the client that asked for the wait.
            for (var owner = 0; owner < clients.Length; owner++)
            {
                var mine = waits.Where(w => w.Client == owner).ToList();
                Assert.Equal(mine.Sum(w => w.Polls.Count), gates[owner].Count(RequestKind.Status));
                Assert.Equal(mine.Count, gates[owner].Count(RequestKind.Result));
            }

            Assert.Equal(otherPolls.Count, otherGate.Count(RequestKind.Status));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task CancellingOneWaitRemovesItAndLeavesTheOthersWaiting()
    {
        Server.Options.ProcessingSeconds = EndlessSeconds;
        var gate = new RecordingGate();
        using var first = Client(gate);
        using var second = Client(gate);
        var kept1 = await first.SubmitAsync(TestClientOptions.Request("kept 1"));
        var dropped = await first.SubmitAsync(TestClientOptions.Request("dropped"));
        var kept2 = await second.SubmitAsync(TestClientOptions.Request("kept 2"));
        var kept1Polls = new PollCounter();
        var droppedPolls = new PollCounter();
        var kept2Polls = new PollCounter();
        using var cancel = new CancellationTokenSource();

        var kept1Wait = first.WaitAsync(kept1.ToReference(), TimeSpan.FromMinutes(5), kept1Polls);
        var droppedWait = first.WaitAsync(dropped.ToReference(), TimeSpan.FromMinutes(5), droppedPolls, cancel.Token);
        var kept2Wait = second.WaitAsync(kept2.ToReference(), TimeSpan.FromMinutes(5), kept2Polls);
        await EventuallyAsync(() => droppedPolls.Count >= 1 && kept1Polls.Count >= 1 && kept2Polls.Count >= 1, "every job to be polled");
        Assert.Equal(3, Tracked());

        cancel.Cancel();
        await Expect.ThrowsAnyAsync<OperationCanceledException>(() => droppedWait.WaitAsync(Patience));
        var droppedAtCancel = droppedPolls.Count;
        await EventuallyAsync(() => Tracked() == 2, "the cancelled wait to leave the poller");

        var kept1Before = kept1Polls.Count;
        var kept2Before = kept2Polls.Count;
        await EventuallyAsync(() => kept1Polls.Count >= kept1Before + 2 && kept2Polls.Count >= kept2Before + 2, "the other jobs to go on being polled");
        Server.CompleteJob(kept1.RequestId);
        Server.CompleteJob(kept2.RequestId);

        Assert.Equal(JobState.Completed, (await kept1Wait.WaitAsync(Patience)).Status);
        Assert.Equal(JobState.Completed, (await kept2Wait.WaitAsync(Patience)).Status);
        Assert.Equal(0, Tracked());

        // At most the poll that was already on the wire when the token fired; never another one.
        Assert.True(droppedPolls.Count <= droppedAtCancel + 1, $"polled {droppedPolls.Count - droppedAtCancel} times after the cancellation");
        Assert.Equal(Segmind.Emulator.JobState.Processing, Server.GetJob(dropped.RequestId)!.State);
    }

    [Fact]
    public async Task AFailedJobAmongOthersThrowsJobFailedWithTheServersReason()
    {
        using var client = Client(new RecordingGate());
        var good = await client.SubmitAsync(TestClientOptions.Request("good"));
        var bad = await client.SubmitAsync(TestClientOptions.Request("[fail] bad"));

        var goodWait = client.WaitAsync(good.ToReference());
        var error = await Expect.ThrowsAsync<SegmindJobFailedException>(() => client.WaitAsync(bad.ToReference()));
        var result = await goodWait.WaitAsync(Patience);

        Assert.Equal(bad.RequestId, error.RequestId);
        Assert.Equal(422, error.StatusCode);
        Assert.Equal("JobFailed", error.ErrorId);
        Assert.Equal(Server.Options.FailureMessage, error.ServerMessage);
        Assert.Contains(Server.Options.FailureMessage, error.Message);
        Assert.Contains(bad.RequestId, error.Message);
        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(0, Tracked());
    }

    [Fact]
    public async Task TimeoutsKeepTheirMeaning()
    {
        Server.Options.ProcessingSeconds = EndlessSeconds;
        using var client = Client(new RecordingGate(), options => options.WaitTimeout = TimeSpan.FromMilliseconds(300));
        var job = await client.SubmitAsync(TestClientOptions.Request("slow"));
        var polls = new PollCounter();

        var given = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(job.ToReference(), TimeSpan.FromMilliseconds(200), polls));
        var pollsWithinGiven = polls.Count;
        var fromOptions = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(job.ToReference()));
        var immediate = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(job.ToReference(), TimeSpan.Zero));

        foreach (var error in new[] { given, fromOptions, immediate })
        {
            Assert.Equal(job.RequestId, error.RequestId);
            Assert.Equal("WaitTimeout", error.ErrorId);
            Assert.Contains(error.LastStatus, new[] { JobState.Queued, JobState.Processing });
            Assert.Contains(job.RequestId, error.Message);
            Assert.Contains("goes on", error.Message);
        }

        Assert.True(pollsWithinGiven >= 1, "a timed-out wait polls at least once");
        Assert.Contains("0.2 s", given.Message);
        Assert.Contains("0.3 s", fromOptions.Message);
        Assert.Equal(0, Tracked());
        Assert.Null(Server.Counters.FinishedAt(job.RequestId));
        await Expect.ThrowsAsync<SegmindValidationException>(() => client.WaitAsync(job.ToReference(), TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public async Task AnInfiniteTimeoutWaitsUntilTheJobEnds()
    {
        Server.Options.ProcessingSeconds = EndlessSeconds;

        // A default that would have long run out: the infinite timeout given must win over it.
        using var client = Client(new RecordingGate(), options => options.WaitTimeout = TimeSpan.FromMilliseconds(50));
        var job = await client.SubmitAsync(TestClientOptions.Request("patient"));
        var polls = new PollCounter();

        var wait = client.WaitAsync(job.ToReference(), Timeout.InfiniteTimeSpan, polls);
        await EventuallyAsync(() => polls.Count >= 10, "ten polls");
        Assert.False(wait.IsCompleted);
        Server.CompleteJob(job.RequestId);

        Assert.Equal(JobState.Completed, (await wait.WaitAsync(Patience)).Status);
        Assert.Equal(JobState.Completed, polls.Last!.Status);
    }

    [Fact]
    public async Task AClientDisposedAfterItsWaitLeavesThePollerWorkingForOthers()
    {
        var poller = JobPollerRegistry.Shared(TestKeys.Key, Server.BaseUri);
        var first = Client(new RecordingGate());
        var job1 = await first.SubmitAsync(TestClientOptions.Request("first"));
        Assert.Equal(JobState.Completed, (await first.WaitAsync(job1.ToReference())).Status);
        first.Dispose();
        await Expect.ThrowsAsync<ObjectDisposedException>(() => first.WaitAsync(job1.ToReference()));

        using var second = Client(new RecordingGate());
        var job2 = await second.SubmitAsync(TestClientOptions.Request("second"));
        Assert.Equal(JobState.Completed, (await second.WaitAsync(job2.ToReference())).Status);
        Assert.Same(poller, JobPollerRegistry.Shared(TestKeys.Key, Server.BaseUri));
    }

    [Fact]
    public async Task TenThousandWaitsCostNoRequestUntilDueAndNothingOnceCancelled()
    {
        const int count = 10_000;

        // The first poll is at least 24 minutes away, so no request is due while the test runs.
        var gate = new RecordingGate();
        using var client = Client(gate, options => options.PollSchedule = new PollSchedule(TimeSpan.FromHours(1), TimeSpan.FromHours(1)));
        using var cancel = new CancellationTokenSource();
        var statusBefore = Server.Counters.Requests(EndpointGroup.Status);

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var waits = new Task<JobResult>[count];
        for (var i = 0; i < count; i++)
        {
            waits[i] = client.WaitAsync(new JobReference("never-polled-" + i), TimeSpan.FromHours(2), null, cancel.Token);
        }

        var during = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(count, Tracked());
        Assert.True(during - before < 50L * 1024 * 1024, "waiting for 10,000 jobs took " + ((during - before) / 1024 / 1024) + " MB");

        cancel.Cancel();
        await Expect.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(waits).WaitAsync(Patience));
        Assert.All(waits, wait => Assert.True(wait.IsCanceled));
        Assert.Equal(0, Tracked());
        Assert.Empty(gate.Entries);
        Assert.Equal(statusBefore, Server.Counters.Requests(EndpointGroup.Status));
    }

    internal static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting for " + what + ".");
            await Task.Delay(10);
        }
    }

    /// <summary>Counts status reads as the module's progress bar does, from whatever thread reports them.</summary>
    internal sealed class PollCounter : IProgress<JobStatus>
    {
        private int _count;
        private JobStatus? _last;

        public int Count => Volatile.Read(ref _count);

        public JobStatus? Last => Volatile.Read(ref _last);

        public void Report(JobStatus value)
        {
            Volatile.Write(ref _last, value);
            Interlocked.Increment(ref _count);
        }
    }
}

using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PacingGateTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void TokenBucketKeepsEverySimulatedMinuteNearTheConfiguredRate()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 100, RequestsPerMinute = 12 }, clock);
        var start = clock.UtcNow;
        var waiting = Enumerable.Range(0, 60).Select(_ => gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask()).ToList();
        var grantedAt = new List<TimeSpan>();

        void Collect()
        {
            foreach (var task in waiting.Where(t => t.IsCompletedSuccessfully).ToList())
            {
                grantedAt.Add(clock.UtcNow - start);
                task.Result.Dispose();
                waiting.Remove(task);
            }
        }

        Collect();
        clock.AdvanceInSteps(TimeSpan.FromMinutes(3), Step, Collect);

        var burst = new RequestGateOptions { RequestsPerMinute = 12 }.BurstFor(12);
        Assert.InRange(grantedAt.Count(t => t < TimeSpan.FromMinutes(1)), 11, 12 + burst);

        // No sliding minute, anywhere in the run, goes beyond the rate plus the burst.
        foreach (var first in grantedAt)
        {
            Assert.True(grantedAt.Count(t => t >= first && t < first + TimeSpan.FromMinutes(1)) <= 12 + burst);
        }

        Assert.InRange(grantedAt.Count, 35, 12 * 3 + burst);
    }

    [Fact]
    public async Task InFlightRequestsNeverExceedTheThrottleLimit()
    {
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 3 });
        var inFlight = 0;
        var maxInFlight = 0;

        async Task OneRequest(int i)
        {
            using (await gate.EnterAsync(i % 2 == 0 ? RequestKind.Status : RequestKind.Submit, CancellationToken.None))
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref maxInFlight, now);
                await Task.Delay(1);
                Interlocked.Decrement(ref inFlight);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() => OneRequest(i)))).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.InRange(maxInFlight, 1, 3);
        var status = gate.GetStatus();
        Assert.Equal(0, status.InFlight);
        Assert.Equal(0, status.Waiting);
        Assert.Equal(60, status.GrantedCount);
    }

    [Fact]
    public async Task CancellingAWaiterFreesItsPlaceWithoutLeakingASlot()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 1 }, clock);
        var held = await gate.EnterAsync(RequestKind.Status, CancellationToken.None);

        using var cancellation = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(RequestKind.Status, cancellation.Token).AsTask();
        var next = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        Assert.False(cancelled.IsCompleted);
        Assert.Equal(2, gate.GetStatus().Waiting);

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, gate.GetStatus().Waiting);
        Assert.False(next.IsCompleted);

        held.Dispose();
        held.Dispose(); // a second dispose must not free a second slot
        var nextSlot = await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, gate.GetStatus().InFlight);

        var third = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);
        nextSlot.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        Assert.Equal(0, gate.GetStatus().InFlight);
    }

    [Fact]
    public void CancellingAWaiterDoesNotSpendAToken()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { RequestsPerMinute = 6, Burst = 1 }, clock);
        GrantedAtOnce(gate.EnterAsync(RequestKind.Status, CancellationToken.None)).Dispose();

        using var cancellation = new CancellationTokenSource();
        var cancelled = gate.EnterAsync(RequestKind.Status, cancellation.Token).AsTask();
        var next = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        cancellation.Cancel();
        Assert.True(cancelled.IsCanceled);

        // One token every 10 s: the surviving waiter gets the first one, the cancelled one took nothing.
        clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(next.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(next.IsCompletedSuccessfully);
    }

    [Fact]
    public void RateLimitPausesEveryRequestForTheServersRetryAfter()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { RequestsPerMinute = 60 }, clock);
        gate.ReportRateLimited(TimeSpan.FromSeconds(30));
        Assert.Equal(clock.UtcNow + TimeSpan.FromSeconds(30), gate.PausedUntil);

        var submit = gate.EnterAsync(RequestKind.Submit, CancellationToken.None).AsTask();
        var poll = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromSeconds(29.9));
        Assert.False(submit.IsCompleted);
        Assert.False(poll.IsCompleted);
        Assert.Contains("paused until", gate.GetStatus().ToString());

        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(poll.IsCompletedSuccessfully || submit.IsCompletedSuccessfully);
        Assert.Null(gate.PausedUntil);
    }

    [Fact]
    public void WithoutRetryAfterTheGateBacksOffByDoublingAndResetsAfterSuccesses()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 100 }, clock);
        var pauses = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            gate.ReportRateLimited(null);
            pauses.Add(gate.PausedUntil!.Value - clock.UtcNow);
            clock.Advance(pauses[^1]);
        }

        Assert.Equal(new[] { 2, 4, 8, 16, 32, 60, 60 }, pauses.Select(p => (int)p.TotalSeconds));

        for (var i = 0; i < RequestGate.RecoveryRun; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(60));
            var slot = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
            GrantedAtOnce(slot).Dispose();
        }

        gate.ReportRateLimited(null);
        Assert.Equal(TimeSpan.FromSeconds(2), gate.PausedUntil!.Value - clock.UtcNow);
    }

    [Fact]
    public async Task ResultsGoFirstAndSubmitsGetEveryThirdTurnWhilePollsWait()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 1 }, clock);
        var held = await gate.EnterAsync(RequestKind.Submit, CancellationToken.None);
        var order = new List<string>();
        var waiting = new List<(string Name, Task<IDisposable> Task)>();
        for (var i = 0; i < 3; i++)
        {
            waiting.Add(("submit" + i, gate.EnterAsync(RequestKind.Submit, CancellationToken.None).AsTask()));
        }

        for (var i = 0; i < 6; i++)
        {
            waiting.Add(("status" + i, gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask()));
        }

        waiting.Add(("result0", gate.EnterAsync(RequestKind.Result, CancellationToken.None).AsTask()));

        held.Dispose();
        while (waiting.Count > 0)
        {
            var granted = waiting.Single(w => w.Task.IsCompleted);
            order.Add(granted.Name);
            waiting.Remove(granted);
            GrantedAtOnce(granted.Task).Dispose();
        }

        Assert.Equal(
            new[] { "result0", "status0", "submit0", "status1", "status2", "submit1", "status3", "status4", "submit2", "status5" },
            order);
    }

    [Fact]
    public void BlockingRunsTakeATokenButNoInFlightSlot()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 1 }, clock);
        var run1 = gate.EnterAsync(RequestKind.SyncRun, CancellationToken.None).AsTask();
        var run2 = gate.EnterAsync(RequestKind.SyncRun, CancellationToken.None).AsTask();
        var poll = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        Assert.True(run1.IsCompletedSuccessfully && run2.IsCompletedSuccessfully && poll.IsCompletedSuccessfully);
        Assert.Equal(1, gate.GetStatus().InFlight);
    }

    [Fact]
    public void ReconfigureAppliesToRequestsAlreadyWaiting()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { RequestsPerMinute = 1, Burst = 1 }, clock);
        GrantedAtOnce(gate.EnterAsync(RequestKind.Status, CancellationToken.None)).Dispose();
        var waiting = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.False(waiting.IsCompleted);

        gate.Reconfigure(new RequestGateOptions { RequestsPerMinute = 0 });
        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Null(gate.EffectiveRequestsPerMinute);
    }

    [Fact]
    public void LimitingAnUnlimitedGateStartsWithAFullBurstThenKeepsTheRate()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 100 }, clock);
        gate.Reconfigure(new RequestGateOptions { ThrottleLimit = 100, RequestsPerMinute = 30, Burst = 3 });

        var slots = Enumerable.Range(0, 5).Select(_ => gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask()).ToList();
        Assert.Equal(3, slots.Count(t => t.IsCompletedSuccessfully));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(4, slots.Count(t => t.IsCompletedSuccessfully));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(5, slots.Count(t => t.IsCompletedSuccessfully));
    }

    [Fact]
    public void OptionsRefuseNonsense()
    {
        Assert.Throws<SegmindValidationException>(() => new RequestGate(new RequestGateOptions { ThrottleLimit = 0 }));
        Assert.Throws<SegmindValidationException>(() => new RequestGate(new RequestGateOptions { RequestsPerMinute = -1 }));
        Assert.Throws<SegmindValidationException>(() => new RequestGate(new RequestGateOptions { RequestsPerMinute = double.NaN }));
        Assert.Throws<SegmindValidationException>(() => new RequestGate(new RequestGateOptions { RequestsPerMinute = 0.5 }));
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenThrowsWithoutQueueing()
    {
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 1 });
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAsync(RequestKind.Status, cancellation.Token).AsTask());
        Assert.Equal(0, gate.GetStatus().Waiting);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>The slot of a request the gate must have granted already (the manual clock never blocks a thread).</summary>
    private static IDisposable GrantedAtOnce(ValueTask<IDisposable> entry) => GrantedAtOnce(entry.AsTask());

    private static IDisposable GrantedAtOnce(Task<IDisposable> entry)
    {
        Assert.True(entry.IsCompletedSuccessfully, "The gate should have granted this request at once.");
        return entry.GetAwaiter().GetResult();
    }
}

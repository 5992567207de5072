using Segmind.Client;
using Segmind.Client.Http;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The retry loop on a fake clock: every delay is recorded and "slept" instantly.</summary>
public sealed class RetryLoopTests
{
    private readonly List<TimeSpan> _delays = new();
    private TimeSpan _now = TimeSpan.FromHours(1);

    private RetryLoop Loop(RetryOptions options, double draw = 0.5) => new(
        () => options,
        (delay, ct) =>
        {
            ct.ThrowIfCancellationRequested();
            _delays.Add(delay);
            _now += delay;
            return Task.CompletedTask;
        },
        () => _now,
        () => draw);

    private static RetryOptions Options(int attempts = 6, double baseSeconds = 1, double maxSeconds = 30, double totalSeconds = 180) => new()
    {
        MaxAttempts = attempts,
        BaseDelay = TimeSpan.FromSeconds(baseSeconds),
        MaxDelay = TimeSpan.FromSeconds(maxSeconds),
        MaxTotal = TimeSpan.FromSeconds(totalSeconds),
    };

    private static SegmindServerException Transient() => new("Segmind had a temporary problem.", 503);

    [Fact]
    public async Task StopsAfterMaxAttemptsAndRethrowsTheLastError()
    {
        var attempts = 0;
        var last = Transient();

        var thrown = await Assert.ThrowsAsync<SegmindServerException>(() => Loop(Options(attempts: 4)).RunAsync<int>(
            (number, ct) =>
            {
                attempts++;
                throw number == 4 ? last : Transient();
            },
            error => error is SegmindException { IsTransient: true },
            CancellationToken.None));

        Assert.Equal(4, attempts);
        Assert.Same(last, thrown);
        Assert.Equal(3, _delays.Count);
    }

    [Fact]
    public async Task ReturnsAsSoonAsAnAttemptSucceeds()
    {
        var result = await Loop(Options()).RunAsync(
            (number, ct) => number < 3 ? throw Transient() : Task.FromResult(number),
            _ => true,
            CancellationToken.None);

        Assert.Equal(3, result);
        Assert.Equal(2, _delays.Count);
    }

    [Fact]
    public async Task DoesNotRetryWhatIsNotRetryable()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<SegmindBadRequestException>(() => Loop(Options()).RunAsync<int>(
            (number, ct) =>
            {
                attempts++;
                throw new SegmindBadRequestException("Segmind refused the request.");
            },
            error => error is SegmindException { IsTransient: true },
            CancellationToken.None));

        Assert.Equal(1, attempts);
        Assert.Empty(_delays);
    }

    [Fact]
    public async Task StartsNoRetryThatWouldEndPastTheTotalBudget()
    {
        var attempts = 0;
        var loop = Loop(Options(attempts: 100, baseSeconds: 1, maxSeconds: 8, totalSeconds: 20), draw: 1.0);

        await Assert.ThrowsAsync<SegmindServerException>(() => loop.RunAsync<int>(
            (number, ct) =>
            {
                attempts++;
                _now += TimeSpan.FromSeconds(1); // each attempt itself takes a second
                throw Transient();
            },
            _ => true,
            CancellationToken.None));

        // Waits 1, 2, 4, 8 (+1 s per attempt) reach 20 s: the fifth failure's 8 s wait would pass the budget.
        Assert.Equal(new[] { 1.0, 2.0, 4.0 }, _delays.Take(3).Select(delay => delay.TotalSeconds));
        Assert.True(_delays.Sum(delay => delay.TotalSeconds) + attempts <= 20 + 1e-9);
        Assert.Equal(5, attempts);
    }

    [Fact]
    public async Task BackOffGrowsExponentiallyWithinBaseAndMax()
    {
        var loop = Loop(Options(attempts: 10, baseSeconds: 1, maxSeconds: 30, totalSeconds: 3600), draw: 1.0);

        await Assert.ThrowsAsync<SegmindServerException>(() => loop.RunAsync<int>((n, ct) => throw Transient(), _ => true, CancellationToken.None));

        Assert.Equal(new[] { 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0 }, _delays.Select(delay => delay.TotalSeconds));
    }

    [Fact]
    public void FullJitterStaysBelowTheCeilingButNeverAtZero()
    {
        var options = Options(baseSeconds: 1, maxSeconds: 30);
        var low = Loop(options, draw: 0.0).NextDelay(3, null, options);
        var high = Loop(options, draw: 0.999).NextDelay(3, null, options);

        Assert.True(low > TimeSpan.Zero);
        Assert.True(low < high);
        Assert.True(high <= TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task HonoursTheServerHint()
    {
        var loop = Loop(Options(attempts: 3, baseSeconds: 0.01, maxSeconds: 10), draw: 0.0);

        await Assert.ThrowsAsync<SegmindRateLimitedException>(() => loop.RunAsync<int>(
            (n, ct) => throw new SegmindRateLimitedException("Segmind is rate limiting this account.", TimeSpan.FromSeconds(7)) { RetryAfterHint = TimeSpan.FromSeconds(7) },
            _ => true,
            CancellationToken.None).WithAttempts(3, _delays));

        Assert.All(_delays, delay => Assert.InRange(delay.TotalSeconds, 7.0, 7.01));
    }

    [Fact]
    public void ClampsAnAbsurdHintToFourTimesTheLongestBackOff()
    {
        var options = Options(maxSeconds: 5);

        var delay = Loop(options, draw: 0.0).NextDelay(1, TimeSpan.FromDays(1), options);

        Assert.Equal(TimeSpan.FromSeconds(20), delay);
    }

    [Fact]
    public async Task CancellationDuringTheWaitStopsAtOnce()
    {
        using var cancel = new CancellationTokenSource();
        var attempts = 0;
        var loop = new RetryLoop(
            () => Options(),
            (delay, ct) =>
            {
                cancel.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
            () => _now,
            () => 0.5);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.RunAsync<int>(
            (n, ct) =>
            {
                attempts++;
                throw Transient();
            },
            _ => true,
            cancel.Token));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task TheCallersCancellationIsNeverRetried()
    {
        using var cancel = new CancellationTokenSource();
        var attempts = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Loop(Options()).RunAsync<int>(
            (n, ct) =>
            {
                attempts++;
                cancel.Cancel();
                ct.ThrowIfCancellationRequested();
                return Task.FromResult(0);
            },
            _ => true,
            cancel.Token));

        Assert.Equal(1, attempts);
    }
}

internal static class RetryLoopTestExtensions
{
    /// <summary>Runs the task and checks how many delays (attempts - 1) it recorded.</summary>
    public static async Task<T> WithAttempts<T>(this Task<T> task, int attempts, List<TimeSpan> delays)
    {
        try
        {
            return await task;
        }
        finally
        {
            Assert.Equal(attempts - 1, delays.Count);
        }
    }
}

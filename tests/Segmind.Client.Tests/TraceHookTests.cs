using System.Collections.Concurrent;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The tracing hooks: every HTTP exchange and every retry is reported, and nothing reported carries the key.</summary>
public sealed class TraceHookTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;
    private readonly RecordingGate _gate = new();
    private readonly ConcurrentQueue<HttpExchange> _exchanges = new();
    private readonly ConcurrentQueue<RetryNotice> _retries = new();

    public TraceHookTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private SegmindClient Client() => _emulator.CreateClient(_gate, options =>
    {
        options.Exchanged = _exchanges.Enqueue;
        options.Retrying = _retries.Enqueue;
        options.Retry = new RetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), MaxTotal = TimeSpan.FromMinutes(1) };
    });

    [Fact]
    public async Task EachExchangeIsReportedWithItsStatusAndAttempt()
    {
        using var client = Client();

        await client.GetCreditsAsync();

        var exchange = Assert.Single(_exchanges);
        Assert.Equal("GET", exchange.Method);
        Assert.EndsWith("/v1/get-user-credits", exchange.Uri.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(200, exchange.StatusCode);
        Assert.Equal(1, exchange.Attempt);
        Assert.True(exchange.Elapsed >= TimeSpan.Zero);
        Assert.Empty(_retries);
    }

    [Fact]
    public async Task EachRetryIsReportedWithItsReasonBeforeTheNextAttempt()
    {
        _emulator.Server.Options.Faults.Credits.RateLimitFaultProbability = 1;
        using var client = Client();

        await Assert.ThrowsAsync<SegmindRateLimitedException>(() => client.GetCreditsAsync());

        Assert.Equal(new[] { 1, 2, 3 }, _exchanges.Select(e => e.Attempt).ToArray());
        Assert.All(_exchanges, e => Assert.Equal(429, e.StatusCode));
        Assert.Equal(new[] { 1, 2 }, _retries.Select(r => r.FailedAttempt).ToArray());
        Assert.All(_retries, r => Assert.Contains("429", r.Reason, StringComparison.Ordinal));
        Assert.DoesNotContain(_exchanges, e => e.Uri.ToString().Contains(TestKeys.Secret, StringComparison.Ordinal));
    }
}

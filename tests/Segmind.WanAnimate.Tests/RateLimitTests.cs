using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// A batch against an account whose request limit is lower than what the client would send: the server's 429s
/// must slow the batch down, not fail its rows.
/// </summary>
public sealed class RateLimitTests : IClassFixture<RateLimitTests.RateLimitedEmulator>
{
    /// <summary>Requests a key may make per emulated minute.</summary>
    private const int ServerLimit = 120;
    private const int Rows = 40;
    private const string FastPoll = "-PollInterval '00:00:00.05'";

    private readonly RateLimitedEmulator _emulator;

    public RateLimitTests(RateLimitedEmulator emulator)
    {
        _emulator = emulator;
    }

    /// <summary>
    /// The rate window runs on emulated time: at this scale an emulated minute is 3 real seconds, so 120 requests
    /// a minute are 40 a real second, far fewer than a batch with 50 ms polls asks for.
    /// </summary>
    public sealed class RateLimitedEmulator : EmulatorFixture
    {
        public const double SlowerTimeScale = 0.05;

        protected override void Configure(EmulatorOptions options)
        {
            options.TimeScale = SlowerTimeScale;
            options.Workers = 64;
            options.ProcessingSeconds = 20;
        }
    }

    [Fact]
    public void A_batch_above_the_account_limit_slows_down_and_every_row_completes()
    {
        // Its own key: the client's process-wide gate is per key, so this test starts from an unslowed gate.
        const string key = "rate-key-default";
        _emulator.Reset(options =>
        {
            options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, key };
            options.RequestsPerMinute = ServerLimit;
        });
        using var session = _emulator.OpenSession(key);

        var result = session.Run(RowsScript + $"\n$rows | New-WanAnimateJob | Wait-WanAnimateJob {FastPoll} -Timeout '00:05:00'");

        AssertBatchCompleted(result);
    }

    [Fact]
    public void A_client_rate_above_the_account_limit_is_slowed_by_the_servers_429s()
    {
        const string key = "rate-key-explicit";
        _emulator.Reset(options =>
        {
            options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, key };
            options.RequestsPerMinute = ServerLimit;
        });
        using var session = _emulator.OpenSession(key);

        // The server allows 120 per emulated minute, 2400 a real minute at this scale; the client is told 6000.
        var result = session.Run(RowsScript + $"\n$rows | New-WanAnimateJob -RequestsPerMinute 6000 -ThrottleLimit 8 | Wait-WanAnimateJob -RequestsPerMinute 6000 {FastPoll} -Timeout '00:05:00'");

        AssertBatchCompleted(result);
    }

    private static string RowsScript =>
        $$"""
        $rows = 1..{{Rows}} | ForEach-Object { [pscustomobject]@{ InputVideo = "https://media.example.com/rate/$_.mp4"; ReferenceImage = 'https://media.example.com/rate/face.png'; Prompt = "rate row $_" } }
        """;

    private void AssertBatchCompleted(ScriptResult result)
    {
        Assert.Null(result.Terminating);
        Assert.DoesNotContain(result.Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.RateLimited", StringComparison.Ordinal));
        Assert.True(result.Errors.Count == 0, result.Describe());

        var results = result.Objects("WanAnimateResult");
        Assert.Equal(Rows, results.Count);
        Assert.All(results, r => Assert.Equal("COMPLETED", r.Get<string>("Status")));
        Assert.Equal(Rows, results.Select(r => r.Get<string>("RequestId")).Distinct().Count());

        var counters = _emulator.Server.Counters;
        Assert.Equal(Rows, counters.AcceptedSubmits);
        Assert.All(counters.AcceptedJobsByFingerprint, pair => Assert.Equal(1, pair.Value));

        // The limit was really reached: the server refused some requests, and the client rode them out.
        Assert.True(counters.RateLimitedResponses > 0, "The server never answered 429: the test did not exceed the limit.");
        Assert.Equal(0, counters.Faults(FaultKind.RateLimit));
    }
}

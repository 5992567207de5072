using System.Globalization;
using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class RateLimitAndFaultTests
{
    [Fact]
    public async Task Requests_beyond_the_per_minute_limit_get_429_with_both_headers()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.RequestsPerMinute = 3));
        using var client = Client(server);

        await SubmitOkAsync(client);
        using (var credits = await client.GetAsync("v1/get-user-credits"))
        {
            Assert.Equal(HttpStatusCode.OK, credits.StatusCode);
        }

        await SubmitOkAsync(client);

        var before = DateTimeOffset.UtcNow;
        using var limited = await SubmitAsync(client);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("Rate limit exceeded", ErrorOf(await ReadJsonAsync(limited)));
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter!.Value.TotalSeconds, 1, 60);
        Assert.Matches(@"^\d+$", limited.Headers.GetValues("Retry-After").Single());

        var resetAt = limited.Headers.GetValues("x-rate-limit-reset-at-utc").Single();
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", resetAt);
        var reset = DateTimeOffset.Parse(resetAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.True(reset > before);

        // The refused submit was neither accepted nor charged.
        Assert.Equal(2, server.Counters.AcceptedSubmits);
        Assert.Equal(999.5m, server.GetCredits(Key));
        Assert.Equal(1, server.Counters.RateLimitedResponses);
    }

    [Fact]
    public async Task Rate_limit_is_per_key_and_frees_up_when_the_window_passes()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o =>
        {
            o.ApiKeys = new List<string> { "key-a", "key-b" };
            o.RequestsPerMinute = 1;
        }));
        using var a = Client(server, "key-a");
        using var b = Client(server, "key-b");

        await SubmitOkAsync(a);
        using (var limited = await SubmitAsync(a))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        }

        await SubmitOkAsync(b);

        // Speed the clock up so the 60-second window passes quickly.
        server.Options.TimeScale = 0.0001;
        await EventuallyAsync(async () =>
        {
            using var response = await SubmitAsync(a);
            return response.StatusCode == HttpStatusCode.OK;
        }, "the rate-limit window to pass");
        Assert.Equal(3, server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task Injected_429_carries_retry_after_and_creates_no_job()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.Submit.RateLimitFaultProbability = 1.0;
        server.Options.Faults.Submit.RateLimitRetryAfterSeconds = 7;
        using var client = Client(server);

        using var response = await SubmitAsync(client);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        Assert.Single(response.Headers.GetValues("x-rate-limit-reset-at-utc"));
        Assert.Equal(1, server.Counters.Faults(FaultKind.RateLimit));
        Assert.Equal(1, server.Counters.RateLimitedResponses);
        Assert.Equal(0, server.Counters.AcceptedSubmits);

        // Other groups are untouched.
        using var credits = await client.GetAsync("v1/get-user-credits");
        Assert.Equal(HttpStatusCode.OK, credits.StatusCode);
    }

    [Fact]
    public async Task Injected_server_errors_use_the_5xx_codes_and_create_no_job()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.Submit.ServerErrorProbability = 1.0;
        using var client = Client(server);

        var codes = new HashSet<int>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await SubmitAsync(client);
            codes.Add((int)response.StatusCode);
        }

        Assert.Subset(new HashSet<int> { 500, 502, 503, 504 }, codes);
        Assert.True(codes.Count > 1, "the code is chosen at random");
        Assert.Equal(40, server.Counters.Faults(FaultKind.ServerError));
        Assert.Equal(0, server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task Dropped_connection_before_accept_fails_the_request_and_creates_no_job()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.Submit.DropConnectionProbability = 1.0;
        server.Options.Faults.Submit.DropAfterAcceptProbability = 0.0;
        using var client = Client(server);

        await Assert.ThrowsAsync<HttpRequestException>(() => SubmitAsync(client));

        Assert.Equal(1, server.Counters.Faults(FaultKind.DropBeforeAccept));
        Assert.Equal(0, server.Counters.AcceptedSubmits);
        Assert.Equal(1000m, server.GetCredits(Key));
    }

    [Fact]
    public async Task Dropped_connection_after_accept_fails_the_request_but_the_job_exists_and_is_charged()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.Submit.DropConnectionProbability = 1.0;
        server.Options.Faults.Submit.DropAfterAcceptProbability = 1.0;
        using var client = Client(server);

        await Assert.ThrowsAsync<HttpRequestException>(() => SubmitAsync(client));

        Assert.Equal(1, server.Counters.Faults(FaultKind.DropAfterAccept));
        Assert.Equal(1, server.Counters.AcceptedSubmits);
        Assert.Equal(999.75m, server.GetCredits(Key));
        Assert.Equal(1, server.Counters.AcceptedJobsFor(EmulatorCounters.Fingerprint(
            "https://example.com/motion.mp4", "https://example.com/character.png", "a dancer on a rooftop", "replace", "480p", 987778)));
    }

    [Fact]
    public async Task Dropped_connection_on_a_poll_raises_HttpRequestException()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.Options.Faults.Status.DropConnectionProbability = 1.0;

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"v2/requests/{id}/status"));

        // Turned off live, the next poll goes through.
        server.Options.Faults.Status.DropConnectionProbability = 0;
        using var response = await client.GetAsync($"v2/requests/{id}/status");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Slow_response_outlasts_a_short_client_timeout()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.Credits.SlowResponseProbability = 1.0;
        server.Options.Faults.Credits.SlowResponseSeconds = 10;
        using var impatient = Client(server, timeout: TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.GetAsync("v1/get-user-credits"));
        Assert.Equal(1, server.Counters.Faults(FaultKind.SlowResponse));
    }

    [Fact]
    public async Task Faults_for_all_groups_never_touch_the_admin_endpoints()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.Options.Faults.All.ServerErrorProbability = 1.0;
        using var client = Client(server);

        using (var submit = await SubmitAsync(client))
        {
            Assert.True((int)submit.StatusCode >= 500);
        }

        using (var credits = await client.GetAsync("v1/get-user-credits"))
        {
            Assert.True((int)credits.StatusCode >= 500);
        }

        using var health = await client.GetAsync("_emulator/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var counters = await client.GetAsync("_emulator/counters");
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
    }

    [Fact]
    public async Task Same_fault_seed_gives_the_same_fault_sequence()
    {
        async Task<List<int>> SequenceAsync()
        {
            await using var server = await EmulatorServer.StartAsync(FrozenOptions(o =>
            {
                o.FaultSeed = 99;
                o.Faults.Credits.ServerErrorProbability = 0.5;
            }));
            using var client = Client(server);
            var codes = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                using var response = await client.GetAsync("v1/get-user-credits");
                codes.Add((int)response.StatusCode);
            }

            return codes;
        }

        var first = await SequenceAsync();
        var second = await SequenceAsync();
        Assert.Equal(first, second);
        Assert.Contains(200, first);
        Assert.Contains(first, code => code >= 500);
    }
}

public class RetryAfterStyleTests
{
    [Theory]
    [InlineData(RetryAfterStyle.Seconds, true, true)]
    [InlineData(RetryAfterStyle.HttpDate, true, true)]
    [InlineData(RetryAfterStyle.ResetHeaderOnly, false, true)]
    [InlineData(RetryAfterStyle.None, false, false)]
    public async Task Injected_429_speaks_each_retry_hint_style(RetryAfterStyle style, bool retryAfter, bool resetHeader)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o =>
        {
            o.Faults.Credits.RateLimitFaultProbability = 1;
            o.Faults.Credits.RateLimitRetryAfterSeconds = 5;
            o.Faults.Credits.RateLimitRetryAfterStyle = style;
        }));
        using var client = Client(server);

        var before = DateTimeOffset.UtcNow;
        using var response = await client.GetAsync("v1/get-user-credits");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(retryAfter, response.Headers.Contains("Retry-After"));
        Assert.Equal(resetHeader, response.Headers.Contains("x-rate-limit-reset-at-utc"));
        if (style == RetryAfterStyle.Seconds)
        {
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter!.Delta);
        }

        if (style == RetryAfterStyle.HttpDate)
        {
            // Not before the moment the client may retry.
            Assert.True(response.Headers.RetryAfter!.Date >= before.AddSeconds(5));
        }
    }
}

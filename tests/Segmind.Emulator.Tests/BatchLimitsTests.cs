using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

/// <summary>Segmind's batch-scale limits: retention from submission, a queue behind Workers, a per-key budget, FAILED metrics.</summary>
public class BatchLimitsTests
{
    [Theory]
    [InlineData(RetentionStart.Submission, HttpStatusCode.NotFound)]
    [InlineData(RetentionStart.Completion, HttpStatusCode.OK)]
    public async Task Retention_counts_from_submission_by_default_so_a_job_that_ends_after_its_window_is_lost(RetentionStart from, HttpStatusCode late)
    {
        // 150 emulated seconds of retention at 0.01 = 1.5 real seconds.
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o =>
        {
            o.TimeScale = 0.01;
            o.RetentionSeconds = 150;
            o.RetentionFrom = from;
        }));
        using var client = Client(server);
        var early = RequestId(await SubmitOkAsync(client));
        var slow = RequestId(await SubmitOkAsync(client));

        server.CompleteJob(early);
        using (var kept = await client.GetAsync($"v2/requests/{early}"))
        {
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        // The slow job ends after its window (counted from submission) has closed.
        await EventuallyAsync(() => Task.FromResult(server.Clock.Now > 160), "the retention window to pass");
        server.CompleteJob(slow);
        using var result = await client.GetAsync($"v2/requests/{slow}");
        Assert.Equal(late, result.StatusCode);
    }

    [Fact]
    public async Task Workers_bound_the_jobs_running_at_once_and_the_rest_queue()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.Workers = 2));
        using var client = Client(server);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(RequestId(await SubmitOkAsync(client)));
        }

        var states = new List<string>();
        foreach (var id in ids)
        {
            using var status = await client.GetAsync($"v2/requests/{id}/status");
            states.Add((await ReadJsonAsync(status)).GetProperty("status").GetString()!);
        }

        Assert.Equal(new[] { "PROCESSING", "PROCESSING", "QUEUED", "QUEUED", "QUEUED" }, states);
        server.CompleteJob(ids[0]);
        using var next = await client.GetAsync($"v2/requests/{ids[2]}/status");
        Assert.Equal("PROCESSING", (await ReadJsonAsync(next)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_per_key_budget_counts_every_request_by_default_and_only_the_listed_endpoints_when_told()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.RequestsPerMinute = 3));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        using (var one = await client.GetAsync($"v2/requests/{id}/status"))
        using (var two = await client.GetAsync("v1/get-user-credits"))
        using (var refused = await client.GetAsync($"v2/requests/{id}/status"))
        {
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        }

        server.Reset();
        server.Options.RateLimitedEndpoints = new List<EndpointGroup> { EndpointGroup.Submit };
        var counted = RequestId(await SubmitOkAsync(client));
        for (var i = 0; i < 10; i++)
        {
            using var poll = await client.GetAsync($"v2/requests/{counted}/status");
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        }
    }

    [Fact]
    public async Task A_failed_job_answers_with_its_metrics()
    {
        await using var server = await EmulatorServer.StartAsync(FastOptions(o => o.ProcessingSeconds = 40));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client, ValidParameters("a dancer [fail]")));
        await EventuallyAsync(() => Task.FromResult(server.Counters.JobsFailed == 1), "the job to fail");

        foreach (var path in new[] { $"v2/requests/{id}/status", $"v2/requests/{id}" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal((HttpStatusCode)422, response.StatusCode);
            var metrics = (await ReadJsonAsync(response)).GetProperty("metrics");
            Assert.Equal(40, metrics.GetProperty("inference_time").GetDouble());
            Assert.Equal(0, metrics.GetProperty("queue_time").GetDouble());
        }
    }
}

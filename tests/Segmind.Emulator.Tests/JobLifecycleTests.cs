using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class JobLifecycleTests
{
    [Fact]
    public async Task Job_moves_through_processing_to_completed_on_the_scaled_clock()
    {
        // 200 emulated seconds of processing at 0.01 = 2 real seconds; 30 s of queue = 0.3 s.
        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { TimeScale = 0.01, QueueSeconds = 30, ProcessingSeconds = 200 });
        using var client = Client(server);

        var submitted = await SubmitOkAsync(client);
        Assert.Equal("QUEUED", submitted.GetProperty("status").GetString());
        var statusUrl = submitted.GetProperty("status_url").GetString()!;

        var states = await PollUntilAsync(client, statusUrl, state => state == "COMPLETED");

        // Polls may miss the short QUEUED phase on a busy machine, but never see states out of order.
        var order = new[] { "QUEUED", "PROCESSING", "COMPLETED" };
        Assert.Equal(states.OrderBy(state => Array.IndexOf(order, state)), states);
        Assert.Contains("PROCESSING", states);
        Assert.Equal("COMPLETED", states[^1]);

        using var result = await client.GetAsync(submitted.GetProperty("response_url").GetString());
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var body = await ReadJsonAsync(result);
        Assert.Equal("COMPLETED", body.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("error").ValueKind);

        // Emulated durations are exact, whatever the real scheduling delays were.
        var metrics = body.GetProperty("metrics");
        Assert.Equal(200, metrics.GetProperty("inference_time").GetDouble());
        Assert.Equal(30, metrics.GetProperty("queue_time").GetDouble());
        Assert.Equal(0.25, metrics.GetProperty("cost").GetDouble());

        var output = body.GetProperty("output").GetString()!;
        Assert.StartsWith(server.BaseUri.ToString(), output, StringComparison.Ordinal);
        var video = await client.GetByteArrayAsync(output);
        Assert.True(IsMp4(video));

        var id = RequestId(submitted);
        Assert.NotNull(server.Counters.CompletedAt(id));
        Assert.True(server.Counters.CompletedAt(id) >= server.Counters.AcceptedAt(id));
        Assert.Equal(1, server.Counters.JobsCompleted);
    }

    [Fact]
    public async Task Submit_answer_carries_absolute_urls_built_from_the_request_host()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        var submitted = await SubmitOkAsync(client);
        var id = RequestId(submitted);
        Assert.True(Guid.TryParse(id, out _));

        var statusUrl = new Uri(submitted.GetProperty("status_url").GetString()!);
        var responseUrl = new Uri(submitted.GetProperty("response_url").GetString()!);
        Assert.True(statusUrl.IsAbsoluteUri);
        Assert.Equal(new Uri(server.BaseUri, "v2/requests/" + id + "/status"), statusUrl);
        Assert.Equal(new Uri(server.BaseUri, "v2/requests/" + id), responseUrl);
        Assert.Equal(statusUrl.ToString(), submitted.GetProperty("poll_url").GetString());

        // Followed exactly as given, with no base address.
        using var bare = new HttpClient();
        bare.DefaultRequestHeaders.Add("x-api-key", Key);
        using var status = await bare.GetAsync(statusUrl);
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal(id, (await ReadJsonAsync(status)).GetProperty("request_id").GetString());
        using var result = await bare.GetAsync(responseUrl);
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
    }

    [Fact]
    public async Task Workers_limit_how_many_jobs_process_at_once()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.Workers = 1));
        using var client = Client(server);

        var first = RequestId(await SubmitOkAsync(client));
        var second = RequestId(await SubmitOkAsync(client));

        Assert.Equal(JobState.Processing, server.GetJob(first)!.State);
        Assert.Equal(JobState.Queued, server.GetJob(second)!.State);
        using (var status = await client.GetAsync($"v2/requests/{second}/status"))
        {
            Assert.Equal("QUEUED", (await ReadJsonAsync(status)).GetProperty("status").GetString());
        }

        using (var result = await client.GetAsync($"v2/requests/{second}"))
        {
            var body = await ReadJsonAsync(result);
            Assert.Equal(HttpStatusCode.OK, result.StatusCode);
            Assert.Equal("QUEUED", body.GetProperty("status").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("output").ValueKind);
        }

        server.CompleteJob(first);
        Assert.Equal(JobState.Completed, server.GetJob(first)!.State);
        Assert.Equal(JobState.Processing, server.GetJob(second)!.State);
    }

    [Fact]
    public async Task Failed_job_is_served_as_422_with_the_error_on_status_and_result()
    {
        await using var server = await EmulatorServer.StartAsync(FastOptions());
        using var client = Client(server);

        var submitted = await SubmitOkAsync(client, ValidParameters("a dancer [fail]"));
        var statusUrl = submitted.GetProperty("status_url").GetString()!;
        await PollUntilAsync(client, statusUrl, state => state == "FAILED");

        using var status = await client.GetAsync(statusUrl);
        Assert.Equal((HttpStatusCode)422, status.StatusCode);
        var statusBody = await ReadJsonAsync(status);
        Assert.Equal("FAILED", statusBody.GetProperty("status").GetString());
        Assert.Contains("blocked", ErrorOf(statusBody), StringComparison.OrdinalIgnoreCase);

        using var result = await client.GetAsync(submitted.GetProperty("response_url").GetString());
        Assert.Equal((HttpStatusCode)422, result.StatusCode);
        var resultBody = await ReadJsonAsync(result);
        Assert.Equal("FAILED", resultBody.GetProperty("status").GetString());
        Assert.Equal(RequestId(submitted), resultBody.GetProperty("request_id").GetString());
        Assert.False(string.IsNullOrEmpty(ErrorOf(resultBody)));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, resultBody.GetProperty("metrics").ValueKind);

        Assert.Equal(1, server.Counters.JobsFailed);
        Assert.Null(server.Counters.CompletedAt(RequestId(submitted)));
        Assert.NotNull(server.Counters.FinishedAt(RequestId(submitted)));

        // The output of a failed job does not exist.
        using var output = await client.GetAsync($"outputs/{RequestId(submitted)}.mp4");
        Assert.Equal(HttpStatusCode.NotFound, output.StatusCode);
    }

    [Fact]
    public async Task Failure_probability_fails_jobs_without_the_marker()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.FailureProbability = 1.0));
        using var client = Client(server);

        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);

        using var status = await client.GetAsync($"v2/requests/{id}/status");
        Assert.Equal((HttpStatusCode)422, status.StatusCode);
        Assert.Equal("FAILED", (await ReadJsonAsync(status)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_request_id_answers_404_on_status_and_result()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var unknown = Guid.NewGuid().ToString();

        using var status = await client.GetAsync($"v2/requests/{unknown}/status");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Contains("not found", ErrorOf(await ReadJsonAsync(status)), StringComparison.OrdinalIgnoreCase);

        using var result = await client.GetAsync($"v2/requests/{unknown}");
        Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
    }

    [Fact]
    public async Task Expired_job_answers_404()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);
        using (var before = await client.GetAsync($"v2/requests/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        server.ExpireJob(id);

        using var status = await client.GetAsync($"v2/requests/{id}/status");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        Assert.Contains("expired", ErrorOf(await ReadJsonAsync(status)), StringComparison.OrdinalIgnoreCase);
        using var result = await client.GetAsync($"v2/requests/{id}");
        Assert.Equal(HttpStatusCode.NotFound, result.StatusCode);
        using var output = await client.GetAsync($"outputs/{id}.mp4");
        Assert.Equal(HttpStatusCode.NotFound, output.StatusCode);
        Assert.Equal(1, server.Counters.JobsExpired);
    }

    [Fact]
    public async Task Results_expire_after_the_retention_period_on_the_scaled_clock()
    {
        // 3600 emulated seconds at 0.01 = 36 real seconds: plenty of margin to see the result kept.
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.TimeScale = 0.01));
        using var client = Client(server);

        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);
        using (var kept = await client.GetAsync($"v2/requests/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        // A live change of scale speeds up the rest of the retention (now under half a real second).
        server.Options.TimeScale = 0.0001;
        await EventuallyAsync(async () =>
        {
            using var response = await client.GetAsync($"v2/requests/{id}/status");
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "the result to expire");
        Assert.Equal(1, server.Counters.JobsExpired);
    }

    [Fact]
    public async Task Reset_forgets_jobs_counters_and_spent_credits()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        var id = RequestId(await SubmitOkAsync(client));
        Assert.Equal(999.75m, server.GetCredits(Key));

        using (var reset = await client.PostAsync("_emulator/reset", null))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        Assert.Equal(1000m, server.GetCredits(Key));
        Assert.Equal(0, server.Counters.AcceptedSubmits);
        using var status = await client.GetAsync($"v2/requests/{id}/status");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);

        server.Reset();
        Assert.Equal(0, server.Counters.Requests(EndpointGroup.Status));
    }
}

using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class SyncRunTests
{
    [Fact]
    public async Task Blocking_run_returns_the_video_bytes_and_the_documented_headers()
    {
        await using var server = await EmulatorServer.StartAsync(FastOptions());
        using var client = Client(server);
        var parameters = ValidParameters();
        parameters["seed"] = 4242;

        using var response = await client.PostAsync("v1/wan-animate", Json(parameters));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("video/mp4", ContentType(response)?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(OutputVideo.Asset.ToArray(), bytes);

        var requestId = Header(response, "x-request-id");
        Assert.True(Guid.TryParse(requestId, out _));
        Assert.Equal("0.25", Header(response, "x-cost"));
        Assert.Equal("999.75", Header(response, "x-remaining-credits"));
        Assert.Equal("400", Header(response, "x-generation-time"));
        Assert.Equal("4242", Header(response, "x-seed-value"));

        Assert.Equal(1, server.Counters.AcceptedSyncRuns);
        Assert.Equal(0, server.Counters.AcceptedSubmits);
        Assert.NotNull(server.Counters.CompletedAt(requestId));

        // Numbers read as the API writes them: no trailing zeros.
        using var second = await client.PostAsync("v1/wan-animate", Json(parameters));
        Assert.Equal("999.5", Header(second, "x-remaining-credits"));
    }

    [Fact]
    public async Task Blocking_run_with_base64_returns_json()
    {
        await using var server = await EmulatorServer.StartAsync(FastOptions());
        using var client = Client(server);
        var parameters = ValidParameters();
        parameters["base64"] = true;

        using var response = await client.PostAsync("v1/wan-animate", Json(parameters));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", ContentType(response)?.MediaType);
        var video = Convert.FromBase64String((await ReadJsonAsync(response)).GetProperty("image").GetString()!);
        Assert.True(IsMp4(video));
        Assert.Equal("987778", Header(response, "x-seed-value"));
    }

    [Fact]
    public async Task Blocking_run_of_a_failing_job_answers_422()
    {
        await using var server = await EmulatorServer.StartAsync(FastOptions());
        using var client = Client(server);

        using var response = await client.PostAsync("v1/wan-animate", Json(ValidParameters("[fail] please")));

        Assert.Equal((HttpStatusCode)422, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(ErrorOf(await ReadJsonAsync(response))));
    }

    [Fact]
    public async Task Blocking_run_waits_for_the_job_to_finish()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        var run = client.PostAsync("v1/wan-animate", Json(ValidParameters()));
        await EventuallyAsync(() => Task.FromResult(server.Counters.AcceptedSyncRuns == 1), "the run to be accepted");
        Assert.False(run.IsCompleted);

        var id = server.Counters.AcceptedRequestIds.Single();
        Assert.Equal(JobState.Processing, server.GetJob(id)!.State);
        server.CompleteJob(id);

        using var response = await run;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, Header(response, "x-request-id"));
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}

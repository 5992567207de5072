using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class CountersTests
{
    [Fact]
    public async Task Each_input_row_is_counted_once_and_refused_submits_not_at_all()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.RequestsPerMinute = 3));
        using var client = Client(server);
        var rows = new[] { "row one", "row two", "row three" };

        foreach (var prompt in rows)
        {
            await SubmitOkAsync(client, ValidParameters(prompt));
        }

        // Over the limit: refused, so still one accepted submit for that row.
        using (var limited = await SubmitAsync(client, ValidParameters("row one")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        }

        Assert.Equal(3, server.Counters.AcceptedSubmits);
        foreach (var prompt in rows)
        {
            var fingerprint = EmulatorCounters.Fingerprint("https://example.com/motion.mp4", "https://example.com/character.png", prompt, "replace", "480p", 987778);
            Assert.Equal(1, server.Counters.AcceptedJobsFor(fingerprint));
        }

        Assert.Equal(3, server.Counters.AcceptedJobsByFingerprint.Count);
        Assert.Equal(4, server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(1, server.Counters.RateLimitedResponses);
        Assert.Equal(3, server.Counters.Responses(200));
        Assert.Equal(3, server.Counters.AcceptedRequestIds.Count);
    }

    [Fact]
    public void Fingerprint_tells_inputs_apart_and_ignores_nothing_that_matters()
    {
        var baseline = EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "p", "replace", "480p", 1);
        Assert.Equal(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "p", "replace", "480p", 1));
        Assert.NotEqual(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "p", "replace", "480p", 2));
        Assert.NotEqual(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "p", "animation", "480p", 1));
        Assert.NotEqual(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "p", "replace", "720p", 1));
        Assert.NotEqual(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4", "https://a/i.png", "q", "replace", "480p", 1));
        Assert.NotEqual(baseline, EmulatorCounters.Fingerprint("https://a/v.mp4p", "https://a/i.png", "", "replace", "480p", 1));
    }

    [Fact]
    public async Task Counters_are_served_as_json()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.Options.Faults.Status.ServerErrorProbability = 1.0;
        using (await client.GetAsync($"v2/requests/{id}/status"))
        {
        }

        using var response = await client.GetAsync("_emulator/counters");
        var json = await ReadJsonAsync(response);

        Assert.Equal(1, json.GetProperty("accepted_submits").GetInt64());
        Assert.Equal(1, json.GetProperty("requests").GetProperty("submit").GetInt64());
        Assert.Equal(1, json.GetProperty("requests").GetProperty("status").GetInt64());
        Assert.Equal(1, json.GetProperty("faults").GetProperty("server_error").GetInt64());
        Assert.Equal(1, json.GetProperty("processing_jobs").GetInt64());
        Assert.Equal(1, json.GetProperty("accepted_jobs_by_fingerprint").EnumerateObject().Single().Value.GetInt64());
        Assert.Equal(1, json.GetProperty("responses_by_status").GetProperty("200").GetInt64());
    }
}

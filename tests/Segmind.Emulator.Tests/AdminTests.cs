using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

/// <summary>The /_emulator endpoints, for tests that drive a separately started emulator over HTTP.</summary>
public class AdminTests
{
    [Fact]
    public async Task Options_can_be_read_and_changed_live_over_http()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using (var change = await client.PostAsync("_emulator/options", RawJson("""
            {"CostPerJob": 2, "ApiKeys": ["new-key"], "Faults": {"Status": {"ServerErrorProbability": 1, "RateLimitRetryAfterStyle": "HttpDate"}}}
            """)))
        {
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
            var echoed = await ReadJsonAsync(change);
            Assert.Equal(2, echoed.GetProperty("CostPerJob").GetDouble());
        }

        Assert.Equal(2m, server.Options.CostPerJob);
        Assert.Equal(new[] { "new-key" }, server.Options.ApiKeys);
        Assert.Equal(1.0, server.Options.Faults.Status.ServerErrorProbability);
        Assert.Equal(RetryAfterStyle.HttpDate, server.Options.Faults.Status.RateLimitRetryAfterStyle);

        using var newKey = Client(server, "new-key");
        using var submit = await SubmitAsync(newKey);
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        Assert.Equal(998m, server.GetCredits("new-key"));

        using var read = await client.GetAsync("_emulator/options");
        Assert.Equal(1, (await ReadJsonAsync(read)).GetProperty("Faults").GetProperty("Status").GetProperty("ServerErrorProbability").GetDouble());
    }

    [Theory]
    [InlineData("""{"TimeScale": 0}""")]
    [InlineData("""{"NoSuchOption": 1}""")]
    [InlineData("""{"Workers": "many"}""")]
    [InlineData("""{"Urls": "http://127.0.0.1:1"}""")]
    [InlineData("""[1]""")]
    public async Task Bad_option_change_is_refused_and_changes_nothing(string body)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var change = await client.PostAsync("_emulator/options", RawJson(body));

        Assert.Equal(HttpStatusCode.BadRequest, change.StatusCode);
        Assert.Equal(1.0, server.Options.TimeScale);
        Assert.Equal(4, server.Options.Workers);
    }

    [Fact]
    public async Task Jobs_can_be_inspected_completed_and_expired_over_http()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));

        using (var job = await client.GetAsync($"_emulator/jobs/{id}"))
        {
            Assert.Equal("PROCESSING", (await ReadJsonAsync(job)).GetProperty("status").GetString());
        }

        using (var complete = await client.PostAsync($"_emulator/jobs/{id}/complete", null))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        }

        using (var job = await client.GetAsync($"_emulator/jobs/{id}"))
        {
            var body = await ReadJsonAsync(job);
            Assert.Equal("COMPLETED", body.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("finished_at_utc").GetString()));
        }

        using (var again = await client.PostAsync($"_emulator/jobs/{id}/complete", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        using (var expire = await client.PostAsync($"_emulator/jobs/{id}/expire", null))
        {
            Assert.Equal(HttpStatusCode.OK, expire.StatusCode);
        }

        using var gone = await client.GetAsync($"v2/requests/{id}/status");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Credits_can_be_set_over_http()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using (var set = await client.PostAsync("_emulator/credits", RawJson($$"""{"api_key": "{{Key}}", "credits": 0.1}""")))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using var submit = await SubmitAsync(client);
        Assert.Equal(HttpStatusCode.NotAcceptable, submit.StatusCode);
    }
}

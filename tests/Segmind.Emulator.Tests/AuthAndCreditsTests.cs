using System.Net;
using System.Text.Json;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class AuthAndCreditsTests
{
    public static TheoryData<string, string> ApiEndpoints => new()
    {
        { "POST", "v2/wan-animate" },
        { "GET", "v2/requests/00000000-0000-0000-0000-000000000000/status" },
        { "GET", "v2/requests/00000000-0000-0000-0000-000000000000" },
        { "POST", "v1/wan-animate" },
        { "GET", "v1/get-user-credits" },
        { "POST", "upload-asset" },
    };

    [Theory]
    [MemberData(nameof(ApiEndpoints))]
    public async Task Missing_or_wrong_key_answers_401_on_every_api_endpoint(string method, string path)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());

        foreach (var key in new[] { null, "not-a-key" })
        {
            using var client = Client(server, key);
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method == "POST")
            {
                request.Content = Json(ValidParameters());
            }

            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.False(string.IsNullOrEmpty(ErrorOf(await ReadJsonAsync(response))));
        }

        Assert.Equal(0, server.Counters.AcceptedJobs);
    }

    [Fact]
    public async Task Forbidden_key_answers_403()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.ForbiddenKeys = new List<string> { "banned-key" }));
        using var client = Client(server, "banned-key");

        using var response = await SubmitAsync(client);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(string.IsNullOrEmpty(ErrorOf(await ReadJsonAsync(response))));
    }

    [Fact]
    public async Task Outputs_assets_and_admin_need_no_key()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var keyed = Client(server);
        var id = RequestId(await SubmitOkAsync(keyed));
        server.CompleteJob(id);

        using var anonymous = Client(server, apiKey: null);
        using (var output = await anonymous.GetAsync($"outputs/{id}.mp4"))
        {
            Assert.Equal(HttpStatusCode.OK, output.StatusCode);
        }

        using (var health = await anonymous.GetAsync("_emulator/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using var counters = await anonymous.GetAsync("_emulator/counters");
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
    }

    [Fact]
    public async Task Several_keys_are_accepted_and_each_has_its_own_credits()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.ApiKeys = new List<string> { "key-a", "key-b" }));
        using var a = Client(server, "key-a");
        using var b = Client(server, "key-b");

        await SubmitOkAsync(a);
        await SubmitOkAsync(a);
        await SubmitOkAsync(b);

        Assert.Equal(999.5, await CreditsAsync(a));
        Assert.Equal(999.75, await CreditsAsync(b));
    }

    [Fact]
    public async Task Credits_decrease_by_the_cost_of_each_accepted_job()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o =>
        {
            o.StartingCredits = 10;
            o.CostPerJob = 1.5m;
        }));
        using var client = Client(server);

        using (var response = await client.GetAsync("v1/get-user-credits"))
        {
            var body = await ReadJsonAsync(response);
            Assert.Equal(10, body.GetProperty("credits").GetDouble());
            Assert.Equal(0, body.GetProperty("free-credits").GetDouble());
        }

        await SubmitOkAsync(client);
        await SubmitOkAsync(client);

        Assert.Equal(7, await CreditsAsync(client));
        Assert.Equal(7m, server.GetCredits(Key));
    }

    [Fact]
    public async Task Insufficient_credits_answers_406_and_creates_no_job()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        server.SetCredits(Key, 0.1m);
        using var client = Client(server);

        using var response = await SubmitAsync(client);

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        Assert.Contains("Insufficient credits", ErrorOf(await ReadJsonAsync(response)), StringComparison.Ordinal);
        Assert.Equal(0, server.Counters.AcceptedSubmits);
        Assert.Equal(0.1, await CreditsAsync(client));
    }

    private static async Task<double> CreditsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("v1/get-user-credits");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJsonAsync(response);
        Assert.Equal(JsonValueKind.Number, body.GetProperty("credits").ValueKind);
        return body.GetProperty("credits").GetDouble();
    }
}

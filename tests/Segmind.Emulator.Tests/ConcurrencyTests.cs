using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class ConcurrencyTests
{
    [Fact]
    public async Task Hundreds_of_concurrent_submits_and_polls_are_all_served_and_charged_exactly()
    {
        const int submits = 300;
        await using var server = await EmulatorServer.StartAsync(FastOptions(o => o.Workers = 20));
        using var client = Client(server);

        var answers = await Task.WhenAll(Enumerable.Range(0, submits).Select(i => SubmitOkAsync(client, ValidParameters("row " + i))));
        var ids = answers.Select(RequestId).ToList();
        Assert.Equal(submits, ids.Distinct().Count());

        var polls = await Task.WhenAll(ids.Select(async id =>
        {
            using var response = await client.GetAsync($"v2/requests/{id}/status");
            return response.StatusCode;
        }));
        Assert.All(polls, status => Assert.Equal(HttpStatusCode.OK, status));

        Assert.Equal(submits, server.Counters.AcceptedSubmits);
        Assert.Equal(submits, server.Counters.AcceptedJobsByFingerprint.Count);
        Assert.Equal(1000m - (submits * 0.25m), server.GetCredits(Key));

        // 300 jobs of 0.4 real seconds on 20 workers: a handful of seconds at most.
        await EventuallyAsync(() => Task.FromResult(server.Counters.JobsCompleted == submits), "every job to complete");
    }
}

using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>Batch-fatal answers stop the batch: a wrong key costs the requests in flight, not one per row.</summary>
public sealed class BatchStopTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;

    public BatchStopTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public async Task AWrongKeyOnAThousandRowsSendsOnlyTheRequestsAlreadyInFlight()
    {
        var stop = new BatchStop();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 });
        using var client = _emulator.CreateClient(gate, options =>
        {
            options.ApiKey = new ApiKey("not-a-key-of-this-account");
            options.BatchStop = stop;
        });

        var submits = Enumerable.Range(0, 1000).Select(i => Outcome(client.SubmitAsync(TestClientOptions.Request("row " + i)))).ToList();
        var outcomes = await Task.WhenAll(submits);

        Assert.InRange(_emulator.Server.Counters.TotalRequests, 1, 4);
        Assert.All(outcomes, error => Assert.True(error is SegmindAuthenticationException || error is SegmindBatchStoppedException, error?.GetType().Name));
        Assert.IsType<SegmindAuthenticationException>(stop.Fatal);
        Assert.True(stop.StoppedToken.IsCancellationRequested);
        Assert.Equal(1000 - _emulator.Server.Counters.TotalRequests, stop.HeldBack);

        // Every held-back row reports the key's own error id, so a script sees one meaning.
        Assert.All(outcomes.OfType<SegmindBatchStoppedException>(), error => Assert.Equal("Unauthorized", error.ErrorId));

        // Polls of the same batch are not sent either.
        await Assert.ThrowsAsync<SegmindBatchStoppedException>(() => client.GetStatusAsync(new JobReference("some-job")));
        Assert.InRange(_emulator.Server.Counters.TotalRequests, 1, 4);
    }

    [Fact]
    public async Task AForbiddenKeyStopsTheBatchToo()
    {
        _emulator.Server.Options.ForbiddenKeys = new List<string> { TestKeys.Other };
        var stop = new BatchStop();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 });
        using var client = _emulator.CreateClient(gate, options =>
        {
            options.ApiKey = new ApiKey(TestKeys.Other);
            options.BatchStop = stop;
        });

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Outcome(client.SubmitAsync(TestClientOptions.Request("row " + i)))));

        Assert.InRange(_emulator.Server.Counters.TotalRequests, 1, 4);
        Assert.IsType<SegmindPermissionException>(stop.Fatal);
        Assert.All(outcomes, error => Assert.Equal("Forbidden", Assert.IsAssignableFrom<SegmindException>(error).ErrorId));
    }

    [Fact]
    public async Task InsufficientCreditsStopSubmittingButAcceptedJobsAreStillCollected()
    {
        _emulator.Server.Options.StartingCredits = 1m;
        _emulator.Server.Options.CostPerJob = 0.25m;
        _emulator.Server.Reset();
        var stop = new BatchStop();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 2 });
        using var client = _emulator.CreateClient(gate, options => options.BatchStop = stop);

        var submits = Enumerable.Range(0, 40).Select(i => client.SubmitAsync(TestClientOptions.Request("row " + i))).ToList();
        try
        {
            await Task.WhenAll(submits);
        }
        catch (SegmindException)
        {
        }

        var accepted = submits.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
        Assert.Equal(4, accepted.Count);
        Assert.NotNull(stop.Credits);
        Assert.Contains("balance", stop.Credits!.Message);
        Assert.Null(stop.Fatal);

        // At most the submits in flight when the first 406 came back were refused; the rest were never sent.
        Assert.InRange(_emulator.Server.Counters.Requests(EndpointGroup.Submit), 5, 4 + 2);
        Assert.All(submits.Where(t => !t.IsCompletedSuccessfully), t => Assert.Equal("InsufficientCredits", ((SegmindException)t.Exception!.InnerException!).ErrorId));

        // The jobs already accepted are still polled and collected.
        var results = await Task.WhenAll(accepted.Select(job => client.WaitAsync(job.ToReference(), TimeSpan.FromSeconds(30))));
        Assert.All(results, result => Assert.Equal(JobState.Completed, result.Status));
    }

    private static async Task<Exception?> Outcome(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}

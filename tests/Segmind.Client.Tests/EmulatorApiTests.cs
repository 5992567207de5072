using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>Every endpoint and every error the emulator can give, over real loopback HTTP.</summary>
public sealed class EmulatorApiTests : EmulatorTest
{
    public EmulatorApiTests(EmulatorFixture emulator)
        : base(emulator)
    {
    }

    /// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; would post elsewhere, later).</summary>
    private sealed class InlineProgress(Action<JobStatus> report) : IProgress<JobStatus>
    {
        public void Report(JobStatus value) => report(value);
    }

    [Fact]
    public async Task SubmitsWaitsAndDownloadsTheVideo()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var seen = new List<JobStatus>();

        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference(), progress: new InlineProgress(seen.Add));
        var saved = await client.DownloadOutputAsync(result, folder.File("out.mp4"));

        Assert.False(string.IsNullOrWhiteSpace(job.RequestId));
        Assert.Equal(JobState.Queued, job.Status);
        Assert.True(job.StatusUrl.IsAbsoluteUri);
        Assert.StartsWith(Server.BaseUri.GetLeftPart(UriPartial.Authority), job.StatusUrl.AbsoluteUri);
        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(job.RequestId, result.RequestId);
        Assert.Equal(OutputKind.Url, result.OutputKind);
        Assert.NotNull(result.InferenceTime);
        Assert.Equal(0.25, result.Cost);
        Assert.NotEmpty(seen);
        Assert.Equal(JobState.Completed, seen[^1].Status);
        Assert.All(seen, status => Assert.Equal(job.RequestId, status.RequestId));
        Assert.False(saved.Skipped);
        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(saved.Path));
        Assert.Equal(saved.Length, new FileInfo(saved.Path).Length);
        Assert.Empty(folder.PartialFiles());
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
        Assert.Equal(1, Gate.Count(RequestKind.Result));
        Assert.Equal(seen.Count, Gate.Count(RequestKind.Status));
        Assert.Equal(1, Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task FollowsAJobByItsIdAlone()
    {
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        Server.CompleteJob(job.RequestId);

        var status = await client.GetStatusAsync(new JobReference(job.RequestId));
        var result = await client.GetResultAsync(new JobReference(job.RequestId));

        Assert.Equal(JobState.Completed, status.Status);
        Assert.True(status.IsTerminal);
        Assert.IsType<double>(status.Metrics["inference_time"]);
        Assert.Equal(JobState.Completed, result.Status);
        Assert.NotNull(result.Output);
    }

    [Fact]
    public async Task AJobInProgressIsNotTerminal()
    {
        Server.Options.ProcessingSeconds = 100_000;
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());

        var status = await client.GetStatusAsync(job.ToReference());
        var result = await client.GetResultAsync(job.ToReference());

        Assert.Contains(status.Status, new[] { JobState.Queued, JobState.Processing });
        Assert.False(status.IsTerminal);
        Assert.Null(result.Output);
        Assert.Equal(OutputKind.None, result.OutputKind);
    }

    [Fact]
    public async Task CreditsGoDownWithEachAcceptedJob()
    {
        using var client = Client();

        var before = await client.GetCreditsAsync();
        await client.SubmitAsync(TestClientOptions.Request("first"));
        await client.SubmitAsync(TestClientOptions.Request("second"));
        var after = await client.GetCreditsAsync();

        Assert.Equal(1000.0, before.Credits);
        Assert.Equal(0.0, before.FreeCredits);
        Assert.Equal(999.5, after.Credits);
    }

    [Fact]
    public async Task EachRequestCarriesItsOwnKey()
    {
        using var first = Client();
        using var second = Client(options => options.ApiKey = new ApiKey(TestKeys.Other));

        await first.SubmitAsync(TestClientOptions.Request());
        var spent = await first.GetCreditsAsync();
        var untouched = await second.GetCreditsAsync();

        Assert.Equal(999.75, spent.Credits);
        Assert.Equal(1000.0, untouched.Credits);
    }

    [Fact]
    public async Task AnUnknownKeyIsUnauthorized()
    {
        const string wrongKey = "sk-wrong-5d2e-NOT-VALID";
        using var client = Client(options => options.ApiKey = new ApiKey(wrongKey));

        var error = await Expect.ThrowsAsync<SegmindAuthenticationException>(() => client.GetCreditsAsync());

        Assert.Equal(401, error.StatusCode);
        Assert.Equal("Unauthorized", error.ErrorId);
        Assert.DoesNotContain(wrongKey, error.ToString());
        Assert.Contains("SEGMIND_API_KEY", error.Message);
        Assert.Equal(1, Gate.Count(RequestKind.Credits));
    }

    [Fact]
    public async Task AForbiddenKeyIsRefused()
    {
        Server.Options.ForbiddenKeys = new List<string> { TestKeys.Other };
        using var client = Client(options => options.ApiKey = new ApiKey(TestKeys.Other));

        var error = await Expect.ThrowsAsync<SegmindPermissionException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(403, error.StatusCode);
        Assert.Equal(0, Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task BadParametersAreABadRequestAndNotRetried()
    {
        using var client = Client();
        var parameters = new Dictionary<string, object?> { ["input_video"] = "not a url", ["prompt"] = "x" };

        var error = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.SubmitAsync("wan-animate", parameters));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("input_video", error.ServerMessage);
        Assert.Contains("input_video", error.Message);
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
    }

    [Fact]
    public async Task AnUnknownModelIsNotFound()
    {
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindNotFoundException>(() => client.SubmitAsync("no-such-model", TestClientOptions.Request().ToParameters()));

        Assert.Equal(404, error.StatusCode);
        Assert.Null(error.RequestId);
    }

    [Fact]
    public async Task TooFewCreditsIsInsufficientCredits()
    {
        Server.SetCredits(TestKeys.Secret, 0.1m);
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindInsufficientCreditsException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(406, error.StatusCode);
        Assert.Equal("InsufficientCredits", error.ErrorId);
        Assert.Equal(1, Gate.Count(RequestKind.Submit));
        Assert.Equal(0, Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task AnExpiredJobIsNotFound()
    {
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        await client.WaitAsync(job.ToReference());
        Server.ExpireJob(job.RequestId);
        var resultRequestsBefore = Gate.Count(RequestKind.Result);

        var result = await Expect.ThrowsAsync<SegmindNotFoundException>(() => client.GetResultAsync(job.ToReference()));
        var status = await Expect.ThrowsAsync<SegmindNotFoundException>(() => client.GetStatusAsync(job.ToReference()));

        foreach (var error in new[] { result, status })
        {
            Assert.Equal(404, error.StatusCode);
            Assert.Equal(job.RequestId, error.RequestId);
            Assert.Contains(job.RequestId, error.Message);
            Assert.Contains("1 hour", error.Message);
        }

        // A 404 is an answer, not a hiccup: asked once, not retried.
        Assert.Equal(resultRequestsBefore + 1, Gate.Count(RequestKind.Result));
    }

    [Fact]
    public async Task AFailedJobIsDataForStatusAndResultAndAnErrorForWait()
    {
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request("[fail] a dancer"));

        var error = await Expect.ThrowsAsync<SegmindJobFailedException>(() => client.WaitAsync(job.ToReference()));
        var status = await client.GetStatusAsync(job.ToReference());
        var result = await client.GetResultAsync(job.ToReference());

        Assert.Equal(job.RequestId, error.RequestId);
        Assert.Equal(422, error.StatusCode);
        Assert.Equal(Server.Options.FailureMessage, error.ServerMessage);
        Assert.Contains(Server.Options.FailureMessage, error.Message);
        Assert.Equal("JobFailed", error.ErrorId);
        Assert.Equal(JobState.Failed, status.Status);
        Assert.True(status.IsTerminal);
        Assert.Equal(Server.Options.FailureMessage, status.Error);
        Assert.Equal(JobState.Failed, result.Status);
        Assert.Equal(Server.Options.FailureMessage, result.Error);
        Assert.Null(result.Output);
    }

    [Fact]
    public async Task WaitingPastTheTimeoutSaysTheJobGoesOn()
    {
        Server.Options.ProcessingSeconds = 100_000;
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());

        var error = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(job.ToReference(), TimeSpan.FromMilliseconds(300)));

        Assert.Equal(job.RequestId, error.RequestId);
        Assert.Contains(error.LastStatus, new[] { JobState.Queued, JobState.Processing });
        Assert.Contains("goes on", error.Message);
        Assert.Contains(job.RequestId, error.Message);
        Assert.Equal("WaitTimeout", error.ErrorId);
        Assert.NotNull(Server.GetJob(job.RequestId));
    }

    [Fact]
    public async Task CancellingAWaitStopsIt()
    {
        Server.Options.ProcessingSeconds = 100_000;
        using var client = Client();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        using var cancel = new CancellationTokenSource();
        var reports = 0;

        await Expect.ThrowsAnyAsync<OperationCanceledException>(() => client.WaitAsync(
            job.ToReference(),
            TimeSpan.FromMinutes(5),
            new InlineProgress(_ =>
            {
                if (++reports == 2)
                {
                    cancel.Cancel();
                }
            }),
            cancel.Token));

        Assert.Equal(2, reports);
        Assert.Equal(2, Gate.Count(RequestKind.Status));
    }

    [Theory]
    [InlineData("file_urls")]
    [InlineData("urls")]
    public async Task UploadsFilesUnderEitherAnswerName(string field)
    {
        Server.Options.UploadUrlsField = field;
        using var client = Client();
        using var folder = new TempFolder();
        var video = folder.File("motion.mp4");
        var image = folder.File("character.png");
        var videoBytes = Enumerable.Range(0, 100_001).Select(i => (byte)(i * 7)).ToArray();
        var imageBytes = new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2 };
        await File.WriteAllBytesAsync(video, videoBytes);
        await File.WriteAllBytesAsync(image, imageBytes);

        var urls = await client.UploadFilesAsync(new[] { video, image });

        Assert.Equal(2, urls.Count);
        using var http = new HttpClient();
        using var videoAnswer = await http.GetAsync(urls[0]);
        using var imageAnswer = await http.GetAsync(urls[1]);
        Assert.Equal(videoBytes, await videoAnswer.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/mp4", videoAnswer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(imageBytes, await imageAnswer.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", imageAnswer.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, Gate.Count(RequestKind.Upload));
    }

    [Fact]
    public async Task UploadRefusesAMissingFileBeforeSendingAnything()
    {
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.UploadFilesAsync(new[] { "missing-video.mp4" }));

        Assert.Equal("Path", error.Field);
        Assert.Empty(Gate.Entries);
    }

    [Fact]
    public async Task UploadRefusesAFileAboveTheLimitNamingTheField()
    {
        using var client = Client(options => options.MaxUploadBytes = 1000);
        using var folder = new TempFolder();
        var video = folder.File("motion.mp4");
        await File.WriteAllBytesAsync(video, new byte[1001]);
        var request = TestClientOptions.Request();
        request.InputVideo = video;

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(request));

        Assert.Equal("InputVideo", error.Field);
        Assert.Empty(Gate.Entries);
    }

    [Fact]
    public async Task SubmitUploadsLocalInputsFirst()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var image = folder.File("character.webp");
        await File.WriteAllBytesAsync(image, new byte[] { 1, 2, 3, 4 });
        var request = TestClientOptions.Request();
        request.ReferenceImage = image;

        var job = await client.SubmitAsync(request);
        var result = await client.WaitAsync(job.ToReference());

        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(new[] { RequestKind.Upload, RequestKind.Submit }, Gate.Entries.Take(2));
        Assert.Equal(1, Server.Counters.Requests(EndpointGroup.Upload));
        Assert.Equal(1, Server.Counters.AcceptedSubmits);

        // The request object keeps the caller's path; only the wire carried the hosted URL.
        Assert.Equal(image, request.ReferenceImage);
    }

    [Fact]
    public async Task TheBlockingRunSavesTheVideoAndItsHeaders()
    {
        using var client = Client();
        using var folder = new TempFolder();

        var run = await client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4"));

        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(run.OutputPath));
        Assert.Equal(OutputVideo.Asset.Length, run.Length);
        Assert.Equal("video/mp4", run.ContentType);
        Assert.False(string.IsNullOrEmpty(run.RequestId));
        Assert.Equal(0.25, run.Cost);
        Assert.Equal(999.75, run.RemainingCredits);
        Assert.NotNull(run.GenerationTime);
        Assert.Equal(42L, run.Seed);
        Assert.Equal(1, Server.Counters.AcceptedSyncRuns);
        Assert.Equal(1, Gate.Count(RequestKind.SyncRun));
        Assert.Empty(folder.PartialFiles());
    }

    [Fact]
    public async Task TheBlockingRunDecodesBase64Answers()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var request = TestClientOptions.Request();
        request.Base64 = true;

        var run = await client.RunAsync(request, folder.File("run.mp4"));

        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(run.OutputPath));
        Assert.Equal("application/json", run.ContentType);
    }

    [Fact]
    public async Task TheBlockingRunReportsAFailedJob()
    {
        using var client = Client();
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindJobFailedException>(() => client.RunAsync(TestClientOptions.Request("[fail] x"), folder.File("run.mp4")));

        Assert.Equal(422, error.StatusCode);
        Assert.False(string.IsNullOrEmpty(error.RequestId));
        Assert.Equal(Server.Options.FailureMessage, error.ServerMessage);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task ABase64OutputIsDecodedToAPlayableMp4()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var request = TestClientOptions.Request();
        request.Base64 = true;

        var job = await client.SubmitAsync(request);
        var result = await client.WaitAsync(job.ToReference());
        var saved = await client.DownloadOutputAsync(result, folder.File("b64.mp4"));

        Assert.Equal(OutputKind.Base64, result.OutputKind);
        var bytes = await File.ReadAllBytesAsync(saved.Path);
        Assert.Equal(OutputVideo.Asset.ToArray(), bytes);
        Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(bytes, 4, 4));
        Assert.Equal(bytes.Length, saved.Length);
    }

    [Fact]
    public async Task AnUnrelatedFileIsRefusedUnlessOverwriting()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var destination = folder.File("out.mp4");
        await File.WriteAllTextAsync(destination, "already here");
        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference());
        var outputsBefore = Server.Counters.Requests(EndpointGroup.Output);

        var refused = await Expect.ThrowsAsync<SegmindOutputFileExistsException>(() => client.DownloadOutputAsync(result, destination));
        var outputsBetween = Server.Counters.Requests(EndpointGroup.Output);
        var replaced = await client.DownloadOutputAsync(result, destination, overwrite: true);

        Assert.Equal(destination, refused.Path);
        Assert.Equal(outputsBefore, outputsBetween);
        Assert.False(replaced.Skipped);
        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(destination));
        Assert.Empty(folder.PartialFiles());
    }

    [Fact]
    public async Task ASavedOutputIsKeptOnlyWhileItIsVerifiablyTheSame()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var destination = folder.File("out.mp4");
        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference());
        await client.DownloadOutputAsync(result, destination);
        var outputsBefore = Server.Counters.Requests(EndpointGroup.Output);

        var kept = await client.DownloadOutputAsync(result, destination);
        var outputsAfterKeep = Server.Counters.Requests(EndpointGroup.Output);
        await File.WriteAllTextAsync(destination, "ten bytes!");
        var repaired = await client.DownloadOutputAsync(result, destination);

        Assert.True(kept.Skipped);
        Assert.Equal(outputsBefore, outputsAfterKeep);
        Assert.False(repaired.Skipped);
        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(destination));
        Assert.Empty(folder.PartialFiles());
    }

    [Fact]
    public async Task AnotherJobsSavedOutputIsUnrelated()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var destination = folder.File("out.mp4");
        var first = await client.WaitAsync((await client.SubmitAsync(TestClientOptions.Request())).ToReference());
        var second = await client.WaitAsync((await client.SubmitAsync(TestClientOptions.Request(prompt: "another job"))).ToReference());
        await client.DownloadOutputAsync(first, destination);

        var refused = await Expect.ThrowsAsync<SegmindOutputFileExistsException>(() => client.DownloadOutputAsync(second, destination));

        Assert.Equal(second.RequestId, refused.RequestId);
    }

    [Fact]
    public async Task AnExpiredOutputLinkIsNotFound()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference());
        Server.ExpireJob(job.RequestId);

        var error = await Expect.ThrowsAsync<SegmindNotFoundException>(() => client.DownloadOutputAsync(result, folder.File("gone.mp4")));

        Assert.Equal(job.RequestId, error.RequestId);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task DownloadRefusesAResultThatIsNotComplete()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var failed = new JobResult("job-1", JobState.Failed, "blocked", new Dictionary<string, object?>(), null, DateTimeOffset.UtcNow);
        var empty = new JobResult("job-2", JobState.Completed, null, new Dictionary<string, object?>(), null, DateTimeOffset.UtcNow);

        var first = await Expect.ThrowsAsync<SegmindValidationException>(() => client.DownloadOutputAsync(failed, folder.File("a.mp4")));
        var second = await Expect.ThrowsAsync<SegmindValidationException>(() => client.DownloadOutputAsync(empty, folder.File("b.mp4")));

        Assert.Contains("FAILED", first.Message);
        Assert.Contains("no output", second.Message);
    }

    [Fact]
    public async Task TheProcessWideGateIsUsedWhenNoneIsGiven()
    {
        using var client = Emulator.CreateClient(Gate, options => options.RequestGate = null);

        var credits = await client.GetCreditsAsync();

        Assert.Equal(1000.0, credits.Credits);
        Assert.Empty(Gate.Entries);
    }
}

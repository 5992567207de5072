using System.Text;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>Answers the emulator never gives, from a raw loopback HTTP stub.</summary>
public sealed class OddAnswerTests : StubServerTest
{
    private const string SubmitAnswer = "{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"http://127.0.0.1:1/s\",\"response_url\":\"http://127.0.0.1:1/r\"}";

    /// <summary>The n-th request (1-based) gets answers[n-1]; later ones get the last.</summary>
    private void AnswerInTurn(params (int Status, string Body)[] answers)
    {
        var count = 0;
        Stub.Handler = (request, stream, ct) =>
        {
            var (status, body) = answers[Math.Min(Interlocked.Increment(ref count), answers.Length) - 1];
            return StubServer.WriteAsync(stream, status, "application/json", Encoding.UTF8.GetBytes(body), null, ct);
        };
    }

    private static JobReference Job => new("job-1");

    [Fact]
    public async Task AnHtml405IsABadRequestWithItsTextAndIsNotRetried()
    {
        Answer(405, "<html><head><title>405 Not Allowed</title></head><body><center><h1>405 Not Allowed</h1></center><hr><center>nginx</center></body></html>", "text/html");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(405, error.StatusCode);
        Assert.Equal("405 Not Allowed 405 Not Allowed nginx", error.ServerMessage);
        Assert.DoesNotContain("<", error.Message);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task GoneMeansTheModelWasRetired()
    {
        Answer(410, "{\"detail\":\"This model is no longer available\"}");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(410, error.StatusCode);
        Assert.Contains("retired", error.Message);
        Assert.Equal("This model is no longer available", error.ServerMessage);
    }

    [Theory]
    [InlineData("{\"detail\":\"Insufficient credits to run this model\"}", typeof(SegmindInsufficientCreditsException))]
    [InlineData("{\"error\":\"Invalid content type\"}", typeof(SegmindBadRequestException))]
    public async Task A406IsToldApartByItsMessage(string body, Type expected)
    {
        Answer(406, body);
        using var client = Client();

        var error = await Expect.ThrowsAnyAsync<SegmindException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.IsType(expected, error);
        Assert.Equal(406, error.StatusCode);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task ANonJsonServerErrorIsRetriedThenReportedWithItsText()
    {
        Answer(500, "upstream exploded\n", "text/plain");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.GetCreditsAsync());

        Assert.Equal(500, error.StatusCode);
        Assert.Equal("upstream exploded", error.ServerMessage);
        Assert.Equal(4, Stub.Requests.Count);
    }

    [Fact]
    public async Task A503WithRetryAfterIsRetried()
    {
        var count = 0;
        Stub.Handler = (request, stream, ct) => Interlocked.Increment(ref count) == 1
            ? StubServer.WriteAsync(stream, 503, "application/json", "{\"error\":\"busy\"}"u8.ToArray(), new[] { ("Retry-After", "0") }, ct)
            : StubServer.WriteAsync(stream, 200, "application/json", "{\"credits\":\"12.5\",\"free_credits\":\"3\"}"u8.ToArray(), null, ct);
        using var client = Client();

        var credits = await client.GetCreditsAsync();

        Assert.Equal(12.5, credits.Credits);
        Assert.Equal(3.0, credits.FreeCredits);
        Assert.Equal(2, Stub.Requests.Count);
    }

    [Fact]
    public async Task ARateLimitWithAnHttpDateIsHonouredAndReported()
    {
        var count = 0;
        Stub.Handler = (request, stream, ct) => Interlocked.Increment(ref count) == 1
            ? StubServer.WriteAsync(stream, 429, "text/plain", "slow down"u8.ToArray(), new[] { ("Retry-After", DateTimeOffset.UtcNow.AddHours(1).ToString("r")) }, ct)
            : StubServer.WriteAsync(stream, 200, "application/json", "{\"credits\":1}"u8.ToArray(), null, ct);
        using var client = Client();

        await client.GetCreditsAsync();

        // An hour is absurd: clamped to 4 x MaxDelay (200 ms here).
        Assert.Equal(TimeSpan.FromMilliseconds(200), Assert.Single(Gate.RateLimitReports));
    }

    [Fact]
    public async Task ASubmitAnswerWithoutItsIdsIsAnUnknownOutcomeThatSaysTheJobMayExist()
    {
        Answer(200, "{\"status\":\"QUEUED\",\"status_url\":\"http://127.0.0.1:1/v2/requests/job-77/status\"}");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("request_id", error.Message);
        Assert.Contains("response_url", error.Message);
        Assert.Contains("may have been created", error.Message);
        Assert.Equal("job-77", error.RequestId);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task ASubmitAnswerThatIsNotJsonIsAnUnknownOutcome()
    {
        Answer(200, "<html>welcome</html>", "text/html");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("may have been created", error.Message);
        Assert.Null(error.RequestId);
    }

    [Fact]
    public async Task TheSubmitSendsTheParametersAsJson()
    {
        Answer(200, SubmitAnswer.Replace("127.0.0.1:1", Stub.BaseUri.Authority));
        using var client = Client();

        var job = await client.SubmitAsync(TestClientOptions.Request());

        var request = Assert.Single(Stub.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v2/wan-animate", request.Path);
        Assert.StartsWith("application/json", request.Header("content-type"));
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        Assert.Equal("https://cdn.example.com/motion.mp4", body.RootElement.GetProperty("input_video").GetString());
        Assert.Equal(42, body.RootElement.GetProperty("seed").GetInt64());
        Assert.False(body.RootElement.GetProperty("base64").GetBoolean());
        Assert.Equal("job-1", job.RequestId);
        Assert.Equal(new Uri(Stub.BaseUri, "s"), job.StatusUrl);
    }

    [Fact]
    public async Task TheKeyTravelsOnlyInItsHeaderAndTheUserAgentNamesTheModule()
    {
        Answer(200, "{\"credits\":5}");
        using var client = Client();

        await client.GetCreditsAsync();

        var request = Assert.Single(Stub.Requests);
        Assert.Equal(TestKeys.Secret, request.Header("x-api-key"));
        Assert.Null(request.Header("authorization"));
        Assert.Matches(@"^Segmind\.PowerShell/\d+\.\d+\.\d+", request.Header("user-agent"));
        Assert.Equal("/v1/get-user-credits", request.Path);
    }

    [Fact]
    public async Task AServerThatEchoesTheKeyNeverGetsItIntoAnException()
    {
        Answer(401, "{\"error\":\"Invalid API key " + TestKeys.Secret + " for this account\"}");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindAuthenticationException>(() => client.GetCreditsAsync());

        Assert.Equal("Invalid API key *** for this account", error.ServerMessage);
    }

    [Fact]
    public async Task AnAnswerAboveTheDeclaredCapIsRefusedUpFront()
    {
        Answer(200, "{\"credits\":1,\"padding\":\"" + new string('x', 5000) + "\"}");
        using var client = Client(options => options.MaxResponseBytes = 1000);

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.GetCreditsAsync());

        Assert.Contains("too large", error.Message);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task AnAnswerWithoutALengthIsCountedWhileReading()
    {
        var body = Encoding.UTF8.GetBytes("{\"credits\":1,\"padding\":\"" + new string('x', 50_000) + "\"}");
        Stub.Handler = (request, stream, ct) => StubServer.WriteRawAsync(stream, 200, "application/json", body, declaredLength: null, null, ct);
        using var client = Client(options => options.MaxResponseBytes = 1000);

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.GetCreditsAsync());

        Assert.Contains("too large", error.Message);
    }

    [Fact]
    public async Task AnUnknownStateIsKeptAndIsNotTerminal()
    {
        AnswerInTurn(
            (200, "{\"status\":\"WARMING_UP\",\"request_id\":\"job-1\"}"),
            (200, "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"),
            (200, "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"https://cdn.example.com/out.mp4\",\"metrics\":{}}"));
        using var client = Client();
        var seen = new List<string>();

        var result = await client.WaitAsync(Job, progress: new SyncProgress(status => seen.Add(status.Status)));

        Assert.Equal(new[] { "WARMING_UP", JobState.Completed }, seen);
        Assert.Equal("https://cdn.example.com/out.mp4", result.Output);
        Assert.Equal("/v2/requests/job-1/status", Stub.Requests[0].Path);
        Assert.Equal("/v2/requests/job-1", Stub.Requests[2].Path);
    }

    [Fact]
    public async Task MetricsBecomePlainValues()
    {
        Answer(200, "{\"status\":\"PROCESSING\",\"unknown\":[1,2],\"metrics\":{\"a\":1,\"b\":1.5,\"c\":\"x\",\"d\":true,\"e\":null,\"f\":{\"g\":[1,\"two\"]}}}");
        using var client = Client();

        var status = await client.GetStatusAsync(Job);

        Assert.Equal("job-1", status.RequestId);
        Assert.Equal(1L, status.Metrics["a"]);
        Assert.Equal(1.5, status.Metrics["b"]);
        Assert.Equal("x", status.Metrics["c"]);
        Assert.Equal(true, status.Metrics["d"]);
        Assert.Null(status.Metrics["e"]);
        var nested = Assert.IsType<Dictionary<string, object?>>(status.Metrics["f"]);
        Assert.Equal(new List<object?> { 1L, "two" }, Assert.IsType<List<object?>>(nested["g"]));
    }

    [Fact]
    public async Task A422WithADetailIsAFailedJob()
    {
        Answer(422, "{\"status\":\"FAILED\",\"detail\":\"NSFW content detected\"}");
        using var client = Client();

        var status = await client.GetStatusAsync(Job);
        var error = await Expect.ThrowsAsync<SegmindJobFailedException>(() => client.WaitAsync(Job));

        Assert.Equal(JobState.Failed, status.Status);
        Assert.Equal("NSFW content detected", status.Error);
        Assert.Equal("NSFW content detected", error.ServerMessage);
    }

    [Fact]
    public async Task AStatusThatIsNotJsonIsAProtocolError()
    {
        Answer(200, "all good", "text/plain");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.GetStatusAsync(Job));

        Assert.Equal("job-1", error.RequestId);
        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task TheStatusUrlIsFetchedExactlyAsGiven()
    {
        Answer(200, "{\"status\":\"QUEUED\"}");
        using var client = Client();
        var job = new JobReference("job-1", new Uri(Stub.BaseUri, "elsewhere/status?id=job-1&sig=a%2Bb"), new Uri(Stub.BaseUri, "elsewhere/result"));

        await client.GetStatusAsync(job);
        await client.GetResultAsync(job);

        Assert.Equal("/elsewhere/status?id=job-1&sig=a%2Bb", Stub.Requests[0].Path);
        Assert.Equal("/elsewhere/result", Stub.Requests[1].Path);
    }

    [Fact]
    public async Task AnIdIsEscapedInTheAddress()
    {
        Answer(200, "{\"status\":\"QUEUED\"}");
        using var client = Client();

        await client.GetStatusAsync(new JobReference("a/b c"));

        Assert.Equal("/v2/requests/a%2Fb%20c/status", Stub.Requests[0].Path);
    }

    [Fact]
    public async Task ABlockingRunAnsweringHtmlIsAProtocolErrorThatSaysTheJobRan()
    {
        Answer(200, "<html>ok</html>", "text/html");
        using var client = Client();
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4")));

        Assert.Contains("charged", error.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task ABlockingRunCutShortSaysTheJobRanAndIsNotRerun()
    {
        Stub.Handler = (request, stream, ct) => StubServer.WriteRawAsync(stream, 200, "video/mp4", new byte[1000], declaredLength: 5000, new[] { ("x-request-id", "run-9") }, ct);
        using var client = Client();
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.RunAsync(TestClientOptions.Request(), folder.File("run.mp4")));

        Assert.Equal("run-9", error.RequestId);
        Assert.Contains("not re-run", error.Message);
        Assert.Single(Stub.Requests);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task AnUploadAnswerWithTheWrongCountIsAProtocolError()
    {
        Answer(200, "{\"urls\":[\"https://cdn.example.com/a.png\",\"https://cdn.example.com/b.png\"]}");
        using var client = Client(options => options.UploadUri = new Uri(Stub.BaseUri, "assets/upload"));
        using var folder = new TempFolder();
        var image = folder.File("a.png");
        await File.WriteAllBytesAsync(image, new byte[] { 1, 2, 3, 4, 5 });

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.UploadFilesAsync(new[] { image }));

        Assert.Contains("2 URL(s) for 1 file(s)", error.Message);
        var request = Assert.Single(Stub.Requests);
        Assert.Equal("/assets/upload", request.Path);
        Assert.Equal("{\"data_urls\":[\"data:image/png;base64,AQIDBAU=\"]}", request.BodyText);
    }

    [Fact]
    public async Task DownloadsCarryNoKey()
    {
        var video = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        Stub.Handler = (request, stream, ct) => StubServer.WriteAsync(stream, 200, "video/mp4", video, null, ct);
        using var client = Client();
        using var folder = new TempFolder();

        var saved = await client.DownloadOutputAsync(Completed(new Uri(Stub.BaseUri, "outputs/v.mp4")), folder.File("v.mp4"));

        Assert.Equal(video, await File.ReadAllBytesAsync(saved.Path));
        Assert.Null(Assert.Single(Stub.Requests).Header("x-api-key"));
        Assert.Empty(Gate.Entries);
    }

    [Fact]
    public async Task AShortDownloadIsRetriedFromScratch()
    {
        var video = Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251)).ToArray();
        var count = 0;
        Stub.Handler = (request, stream, ct) => Interlocked.Increment(ref count) == 1
            ? StubServer.WriteRawAsync(stream, 200, "video/mp4", video.AsSpan(0, 50_000).ToArray(), video.Length, null, ct)
            : StubServer.WriteAsync(stream, 200, "video/mp4", video, null, ct);
        using var client = Client();
        using var folder = new TempFolder();

        var saved = await client.DownloadOutputAsync(Completed(new Uri(Stub.BaseUri, "outputs/v.mp4")), folder.File("v.mp4"));

        Assert.Equal(video, await File.ReadAllBytesAsync(saved.Path));
        Assert.Equal(2, Stub.Requests.Count);
        Assert.Empty(folder.PartialFiles());
    }

    [Fact]
    public async Task AStalledDownloadTimesOutWhenIdleAndLeavesNothingBehind()
    {
        Stub.Handler = async (request, stream, ct) =>
        {
            await StubServer.WriteRawAsync(stream, 200, "video/mp4", new byte[100_000], 10_000_000, null, ct);
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
        };
        using var client = Client(options =>
        {
            options.RequestTimeout = TimeSpan.FromMilliseconds(400);
            options.Retry.MaxAttempts = 2;
        });
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.DownloadOutputAsync(Completed(new Uri(Stub.BaseUri, "outputs/v.mp4")), folder.File("v.mp4")));

        Assert.Contains("stalled", error.Message);
        Assert.Equal(2, Stub.Requests.Count);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task CancellingADownloadDeletesThePartialFile()
    {
        Stub.Handler = async (request, stream, ct) =>
        {
            await StubServer.WriteRawAsync(stream, 200, "video/mp4", new byte[200_000], 10_000_000, null, ct);
            await Task.Delay(TimeSpan.FromSeconds(30), ct);
        };
        using var client = Client();
        using var folder = new TempFolder();
        using var cancel = new CancellationTokenSource();
        var destination = folder.File("v.mp4");

        var download = client.DownloadOutputAsync(Completed(new Uri(Stub.BaseUri, "outputs/v.mp4")), destination, cancellationToken: cancel.Token);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!folder.PartialFiles().Any(path => new FileInfo(path).Length > 0) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.NotEmpty(folder.PartialFiles());
        cancel.Cancel();
        await Expect.ThrowsAnyAsync<OperationCanceledException>(() => download);

        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task AnOutputLinkThatIsRefusedSaysLinksExpire()
    {
        Answer(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", "application/xml");
        using var client = Client();
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindPermissionException>(() => client.DownloadOutputAsync(Completed(new Uri(Stub.BaseUri, "outputs/v.mp4")), folder.File("v.mp4")));

        Assert.Contains("expire", error.Message);
        Assert.Equal("AccessDenied Request has expired", error.ServerMessage);
        Assert.Single(Stub.Requests);
    }

    private static JobResult Completed(Uri output) =>
        new("job-1", JobState.Completed, null, new Dictionary<string, object?>(), output.AbsoluteUri, DateTimeOffset.UtcNow);

    private sealed class SyncProgress(Action<JobStatus> report) : IProgress<JobStatus>
    {
        public void Report(JobStatus value) => report(value);
    }
}

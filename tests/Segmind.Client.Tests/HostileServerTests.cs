using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// A hostile API server on 127.0.0.1 and a second host on 127.0.0.2: the key is never sent to the second host
/// whatever address the answers or the caller name, every echo of the key is cleaned before it reaches an error or
/// an object, and a garbled answer to a submit never reads as "not submitted".
/// </summary>
public sealed class HostileServerTests : StubServerTest
{
    private static readonly IPAddress SecondHost = IPAddress.Parse("127.0.0.2");

    private readonly List<string> _warnings = new();
    private readonly StubServer _elsewhere;

    public HostileServerTests()
    {
        _elsewhere = AnotherServer(new StubServer((_, stream, ct) => StubServer.WriteAsync(stream, 200, "application/json", "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"https://cdn.example.com/x.mp4\"}"u8.ToArray(), null, ct), SecondHost));
    }

    protected override void Configure(SegmindClientOptions options) =>
        options.Warning = message =>
        {
            lock (_warnings)
            {
                _warnings.Add(message);
            }
        };

    /// <summary>Submits get <paramref name="submitAnswer"/>, every GET <paramref name="getAnswer"/>.</summary>
    private void AnswerSubmitThen(string submitAnswer, string getAnswer) =>
        Stub.Handler = (request, stream, ct) => StubServer.WriteAsync(stream, 200, "application/json", Encoding.UTF8.GetBytes(request.Method == "POST" ? submitAnswer : getAnswer), null, ct);

    private void AssertSecondHostNeverReached()
    {
        Assert.Empty(_elsewhere.Requests);
        Assert.All(Stub.Requests, r => Assert.Equal(TestKeys.Secret, r.Header("x-api-key")));
    }

    // ---- 1. The key goes only to the configured API host ----

    [Fact]
    public async Task JobAddressesOnAnotherHostInTheSubmitAnswerAreReplacedAndTheJobIsPolledAtTheApi()
    {
        var other = _elsewhere.BaseUri;
        AnswerSubmitThen(
            $"{{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"{other}v2/requests/job-1/status\",\"response_url\":\"{other}v2/requests/job-1\",\"poll_url\":\"{other}poll\"}}",
            "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"https://cdn.example.com/x.mp4\"}");
        using var client = Client();

        var submitted = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(submitted.ToReference(), TimeSpan.FromSeconds(30));

        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(Stub.BaseUri.Authority, submitted.StatusUrl.Authority);
        Assert.Equal(Stub.BaseUri.Authority, submitted.ResponseUrl.Authority);
        Assert.Null(submitted.PollUrl);
        Assert.Contains(Stub.Requests, r => r.Path == "/v2/requests/job-1/status");
        AssertSecondHostNeverReached();
        Assert.Contains(_warnings, w => w.Contains(other.Authority) && w.Contains("job-1"));
    }

    public static TheoryData<string> ForeignAddresses => new()
    {
        "http://127.0.0.2:{port}/v2/requests/job-1/status",  // another host
        "http://127.0.0.1:1/v2/requests/job-1/status",       // the API's host on another port
        "https://127.0.0.1:{apiport}/v2/requests/job-1/status", // another scheme
        "http://localhost:{apiport}/v2/requests/job-1/status",  // another name for the same machine is still another host
    };

    [Theory]
    [MemberData(nameof(ForeignAddresses))]
    public async Task APipedStatusOrResultAddressOnAnotherOriginIsIgnoredWithAWarning(string template)
    {
        var address = template.Replace("{port}", _elsewhere.BaseUri.Port.ToString()).Replace("{apiport}", Stub.BaseUri.Port.ToString());
        Answer(200, "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"https://cdn.example.com/x.mp4\"}");
        using var client = Client();

        // As a CSV row's StatusUrl/ResponseUrl columns arrive: addresses kept as text.
        var job = JobReference.FromUrlText("job-1", address, address.Replace("/status", string.Empty));
        var status = await client.GetStatusAsync(job);
        var result = await client.GetResultAsync(job);

        Assert.Equal(JobState.Completed, status.Status);
        Assert.Equal(JobState.Completed, result.Status);
        Assert.Equal(new[] { "/v2/requests/job-1/status", "/v2/requests/job-1" }, Stub.Requests.Select(r => r.Path));
        AssertSecondHostNeverReached();
        Assert.Equal(2, _warnings.Count);
        Assert.All(_warnings, w => Assert.Contains("not the API host", w));
    }

    [Fact]
    public async Task AnAddressOnTheApiHostIsUsedAsGivenAndATrustedHostOnlyWhenListed()
    {
        Answer(200, "{\"status\":\"PROCESSING\",\"request_id\":\"job-1\"}");
        using var client = Client();
        await client.GetStatusAsync(new JobReference("job-1", new Uri(Stub.BaseUri, "custom/status")));
        Assert.Equal("/custom/status", Stub.Requests.Single().Path);
        Assert.Empty(_warnings);

        using var trusting = Client(options => options.TrustedJobHosts = new[] { _elsewhere.BaseUri });
        await trusting.GetStatusAsync(new JobReference("job-1", new Uri(_elsewhere.BaseUri, "v2/requests/job-1/status")));
        Assert.Equal(TestKeys.Secret, _elsewhere.Requests.Single().Header("x-api-key"));
    }

    [Fact]
    public async Task AnOutputOnAnotherHostIsDownloadedWithoutTheKey()
    {
        var video = new byte[] { 0, 0, 0, 16, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 0, 0 };
        _elsewhere.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, 200, "video/mp4", video, null, ct);
        using var client = Client();
        using var folder = new TempFolder();
        var result = new JobResult("job-1", JobState.Completed, null, new Dictionary<string, object?>(), _elsewhere.BaseUri + "outputs/x.mp4", DateTimeOffset.UtcNow);

        await client.DownloadOutputAsync(result, folder.File("x.mp4"));

        Assert.Null(_elsewhere.Requests.Single().Header("x-api-key"));
    }

    // ---- 2. One redactor at the boundary ----

    /// <summary>The key as a hostile server may echo it: escaped for JSON, in another case, cut short.</summary>
    private static string Escaped(string text) => string.Concat(text.Select(c => "\\u" + ((int)c).ToString("x4")));

    /// <summary>Any text a caller can see: nothing of the key, in any case or escape, not even its first 8 characters.</summary>
    private static void AssertNoKey(string? text)
    {
        if (text is null)
        {
            return;
        }

        var unescaped = Regex.Replace(text, @"\\u([0-9a-fA-F]{4})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());
        Assert.DoesNotContain(TestKeys.Secret[..8], unescaped, StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertNoKey(SegmindException error)
    {
        TestKeys.AssertClean(error);
        AssertNoKey(error.Message);
        AssertNoKey(error.ToString());
        AssertNoKey(error.ServerMessage);
        AssertNoKey(error.RequestId);
        if (error is SegmindWaitTimeoutException timeout)
        {
            AssertNoKey(timeout.LastStatus);
        }
    }

    /// <summary>Writes an answer with a reason phrase of the server's choosing.</summary>
    private static async Task WriteWithReasonAsync(NetworkStream stream, int status, string reason, string body, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        await stream.WriteAsync(bytes, ct);
    }

    [Fact]
    public async Task Path1TheReasonPhraseIsCleaned()
    {
        Stub.Handler = (_, stream, ct) => WriteWithReasonAsync(stream, 401, "Bad key " + TestKeys.Secret, "{}", ct);
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindAuthenticationException>(() => client.GetCreditsAsync());

        AssertNoKey(error);
        Assert.Contains("Bad key ***", error.Message);
    }

    [Fact]
    public async Task Path2And3TheRequestIdHeaderIsCleanedInTheExceptionAndTheNotFoundMessage()
    {
        Answer(404, "{\"detail\":\"no such thing\"}", "application/json", ("x-request-id", "rid-" + TestKeys.Secret));
        using var client = Client();

        var notFound = await Expect.ThrowsAsync<SegmindNotFoundException>(() => client.GetCreditsAsync());
        AssertNoKey(notFound);
        Assert.Equal("rid-***", notFound.RequestId);

        Answer(500, "{}", "application/json", ("x-request-id", TestKeys.Secret.ToUpperInvariant()));
        var server = await Expect.ThrowsAsync<SegmindServerException>(() => client.GetCreditsAsync());
        AssertNoKey(server);
    }

    [Fact]
    public async Task Path4AJsonEscapedKeyInAStructuredDetailIsCleaned()
    {
        Answer(400, "{\"detail\":[{\"loc\":[\"body\",\"prompt\"],\"msg\":\"bad key " + Escaped(TestKeys.Secret) + "\"}]}");
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.SubmitAsync(TestClientOptions.Request()));

        AssertNoKey(error);
        Assert.Contains("***", error.ServerMessage);
    }

    [Fact]
    public async Task Path5And6AFailedJobsEscapedDetailIsCleanInTheStatusTheResultAndTheFailure()
    {
        // The same text is what the journal records for a FAILED row.
        Answer(422, "{\"status\":\"FAILED\",\"request_id\":\"job-1\",\"detail\":{\"reason\":\"quota of " + Escaped(TestKeys.Secret.ToUpperInvariant()) + "\"}}");
        using var client = Client();

        var status = await client.GetStatusAsync(new JobReference("job-1"));
        var result = await client.GetResultAsync(new JobReference("job-1"));
        var failure = await Expect.ThrowsAsync<SegmindJobFailedException>(() => client.WaitAsync(new JobReference("job-1"), TimeSpan.FromSeconds(30)));

        Assert.Equal(JobState.Failed, status.Status);
        AssertNoKey(status.Error);
        AssertNoKey(result.Error);
        AssertNoKey(failure);
        Assert.Contains("***", status.Error);
    }

    [Fact]
    public async Task Path7AKeyCutByTheMessageLimitLeavesNoPrefix()
    {
        // The key starts just before the 300-character limit, so shortening first would keep its first characters.
        var padding = new string('x', 290);
        Answer(400, "{\"error\":\"" + padding + " " + TestKeys.Secret + "\"}");
        using var client = Client();
        var error = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.GetCreditsAsync());
        AssertNoKey(error);

        // A server that cut the key itself.
        Answer(400, "{\"error\":\"key was " + TestKeys.Secret[..12] + "\"}");
        var cut = await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.GetCreditsAsync());
        AssertNoKey(cut);
    }

    [Fact]
    public async Task Path8AnUnknownStatusValueQuotedInATimeoutIsCleaned()
    {
        Answer(200, "{\"status\":\"WAITING-FOR-" + TestKeys.Secret + "\",\"request_id\":\"job-1\"}");
        using var client = Client();

        var status = await client.GetStatusAsync(new JobReference("job-1"));
        var timeout = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(new JobReference("job-1"), TimeSpan.FromMilliseconds(300)));

        AssertNoKey(status.Status);
        AssertNoKey(timeout);
        Assert.Equal("WAITING-FOR-***", timeout.LastStatus);
    }

    public static TheoryData<string> KeyForms => new()
    {
        TestKeys.Secret.ToUpperInvariant(),
        TestKeys.Secret.ToLowerInvariant(),
        Escaped(TestKeys.Secret),
        TestKeys.Secret.Replace("-", "\\u002D"),
        Uri.EscapeDataString(TestKeys.Secret).Replace("-", "%2d"),
        string.Concat(TestKeys.Secret.Select(c => "&#" + (int)c + ";")),
    };

    [Theory]
    [MemberData(nameof(KeyForms))]
    public async Task Path9TheKeyInAnyCaseOrEscapeIsCleanedFromErrorsAndObjects(string form)
    {
        using var client = Client();

        Answer(400, "{\"error\":\"bad key " + form + "\"}");
        AssertNoKey(await Expect.ThrowsAsync<SegmindBadRequestException>(() => client.GetCreditsAsync()));

        Answer(403, "<html><body>key " + form + " refused</body></html>", "text/html");
        AssertNoKey(await Expect.ThrowsAsync<SegmindPermissionException>(() => client.GetCreditsAsync()));

        Answer(200, "{\"status\":\"FAILED\",\"request_id\":\"id-" + form + "\",\"error\":\"because " + form + "\"}");
        var status = await client.GetStatusAsync(new JobReference("job-1"));
        AssertNoKey(status.RequestId);
        AssertNoKey(status.Error);
    }

    [Fact]
    public async Task AnOrdinaryAnswerIsLeftAsItIs()
    {
        Answer(200, "{\"status\":\"FAILED\",\"request_id\":\"job-1\",\"error\":\"50% of frames at \\\\ path & more: sk-other\"}");
        using var client = Client();

        var status = await client.GetStatusAsync(new JobReference("job-1"));

        Assert.Equal("50% of frames at \\ path & more: sk-other", status.Error);
    }

    // ---- 3. A usable-answer rule for submits ----

    public static TheoryData<string, string?> UnusableSubmitAnswers => new()
    {
        { "<html>ok</html>", null },
        { "{\"request_id\":\"job-9\",\"status_url\":\"http://x/v2/requ", "job-9" },
        { "{\"status\":\"QUEUED\",\"status_url\":\"http://127.0.0.1:1/v2/requests/job-8/status\",\"response_url\":\"http://127.0.0.1:1/v2/requests/job-8\"}", "job-8" },
        { "{\"request_id\":\"job-7\",\"status\":\"QUEUED\"}", "job-7" },
        { "{\"request_id\":\"job-6\",\"status_url\":\"ftp://x/s\",\"response_url\":\"http://127.0.0.1:1/r\"}", "job-6" },
        { "[]", null },
    };

    [Theory]
    [MemberData(nameof(UnusableSubmitAnswers))]
    public async Task AnUnusable2xxSubmitAnswerIsAnUnknownOutcomeKeepingAnyIdAndIsNotResent(string body, string? salvaged)
    {
        Answer(200, body);
        using var client = Client();

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal(salvaged, error.RequestId);
        Assert.Equal(200, error.StatusCode);
        Assert.Contains("not re-sent", error.Message);
        if (salvaged != null)
        {
            Assert.Contains(salvaged, error.Message);
        }

        Assert.Single(Stub.Requests);
    }

    [Fact]
    public async Task ASubmitAnswerOverTheSizeCapIsAnUnknownOutcomeAndIsNotResent()
    {
        Answer(202, "{\"request_id\":\"job-1\",\"padding\":\"" + new string('x', 5000) + "\"}");
        using var client = Client(options => options.MaxResponseBytes = 1000);

        var error = await Expect.ThrowsAsync<SegmindSubmitOutcomeUnknownException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("too large", error.Message);
        Assert.Single(Stub.Requests);
    }

    // ---- 4 and 7. Local inputs: regular, non-empty files, prompts within the limit, all checked before sending ----

    private static string MakeFifo(TempFolder folder)
    {
        var path = folder.File("motion.mp4");
        using var mkfifo = System.Diagnostics.Process.Start("mkfifo", path);
        mkfifo!.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    [Fact]
    public async Task AFifoAnEmptyFileOrADirectoryAsInputIsRefusedBeforeAnythingIsSent()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        var fifo = MakeFifo(folder);
        var empty = folder.File("empty.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        using var client = Client();

        var request = TestClientOptions.Request();
        request.InputVideo = fifo;
        var fromFifo = await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(request)).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal("InputVideo", fromFifo.Field);
        Assert.Contains("not a regular file", fromFifo.Message);

        request = TestClientOptions.Request();
        request.ReferenceImage = empty;
        var fromEmpty = await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(request));
        Assert.Equal("ReferenceImage", fromEmpty.Field);
        Assert.Contains("empty (0 bytes)", fromEmpty.Message);

        request = TestClientOptions.Request();
        request.InputVideo = folder.Path;
        Assert.Equal("InputVideo", (await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(request))).Field);

        var upload = await Expect.ThrowsAsync<SegmindValidationException>(() => client.UploadFilesAsync(new[] { fifo })).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Contains("not a regular file", upload.Message);

        Assert.Empty(Stub.Requests);
    }

    [Fact]
    public async Task APromptOverTheLimitIsRefusedBeforeAnythingIsSent()
    {
        using var client = Client();
        var request = TestClientOptions.Request(new string('p', WanAnimateRequest.MaxPromptLength + 1));

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(request));

        Assert.Equal("Prompt", error.Field);
        Assert.Contains(WanAnimateRequest.MaxPromptLength.ToString(), error.Message);
        Assert.Empty(Stub.Requests);
        TestClientOptions.Request(new string('p', WanAnimateRequest.MaxPromptLength)).Validate();
    }
}

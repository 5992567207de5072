using System.Text;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>
/// Where the key may travel besides the base address: never along a redirect, never to an output download, and
/// never back out through an error when a server echoes it.
/// </summary>
public sealed class SecurityTests : StubServerTest
{
    private readonly StubServer _elsewhere;

    public SecurityTests()
    {
        _elsewhere = AnotherServer(StubServer.Answering(200, "{\"credits\":1,\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"));
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task AnApiRedirectIsNotFollowedSoTheKeyStaysWithTheApi(int status)
    {
        Stub.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, status, "text/plain", "moved"u8.ToArray(), new[] { ("Location", _elsewhere.BaseUri + "v1/get-user-credits") }, ct);
        using var client = Client();

        await Expect.ThrowsAnyAsync<SegmindException>(() => client.GetCreditsAsync());
        await Expect.ThrowsAnyAsync<SegmindException>(() => client.GetStatusAsync(new JobReference("job-1")));

        Assert.NotEmpty(Stub.Requests);
        Assert.All(Stub.Requests, r => Assert.Equal(TestKeys.Secret, r.Header("x-api-key")));
        Assert.Empty(_elsewhere.Requests);
    }

    [Fact]
    public async Task AnOutputDownloadNeverCarriesTheKeyNotEvenAfterARedirect()
    {
        var video = new byte[] { 0, 0, 0, 16, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 0, 0 };
        Stub.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, 302, "text/plain", "moved"u8.ToArray(), new[] { ("Location", _elsewhere.BaseUri + "outputs/final.mp4") }, ct);
        _elsewhere.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, 200, "video/mp4", video, null, ct);
        using var client = Client();
        using var folder = new TempFolder();
        var result = new JobResult("job-1", JobState.Completed, null, new Dictionary<string, object?>(), Stub.BaseUri + "outputs/first.mp4", DateTimeOffset.UtcNow);

        var saved = await client.DownloadOutputAsync(result, folder.File("out.mp4"));

        Assert.Equal(video, await File.ReadAllBytesAsync(saved.Path));
        Assert.Single(Stub.Requests);
        Assert.Single(_elsewhere.Requests);
        Assert.All(Stub.Requests.Concat(_elsewhere.Requests), r => Assert.Null(r.Header("x-api-key")));
    }

    public static TheoryData<int, string, string> EchoingAnswers => new()
    {
        { 400, "application/json", "{\"error\":\"bad key format: " + TestKeys.Secret + "\"}" },
        { 401, "application/json", "{\"detail\":\"Invalid API key " + TestKeys.Secret + "\"}" },
        { 403, "text/plain", "key " + TestKeys.Secret + " may not use this model" },
        { 404, "text/html", "<html><body>No route for key=" + TestKeys.Secret + "</body></html>" },
        { 406, "application/json", "{\"error\":\"Insufficient credits for " + TestKeys.Secret + "\"}" },
        { 410, "application/json", "{\"message\":\"model retired (key " + TestKeys.Secret + ")\"}" },
        { 422, "application/json", "{\"status\":\"FAILED\",\"request_id\":\"job-1\",\"error\":\"blocked for " + TestKeys.Secret + "\"}" },
        { 429, "application/json", "{\"error\":\"slow down " + TestKeys.Secret + "\"}" },
        { 500, "text/plain", "Traceback: api_key='" + TestKeys.Secret + "'" },
        { 200, "text/plain", "not json but it says " + TestKeys.Secret },
    };

    [Theory]
    [MemberData(nameof(EchoingAnswers))]
    public async Task AServerThatEchoesTheKeyNeverGetsItIntoAnError(int status, string contentType, string body)
    {
        Stub.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, status, contentType, Encoding.UTF8.GetBytes(body), new[] { ("Retry-After", "0") }, ct);
        using var client = Client();

        // Expect checks the message, ToString and server message of each exception for the key. A 422 is a job
        // outcome (FAILED), handed back as a status or result whose error text must be clean too.
        foreach (var call in new Func<Task<object>>[]
        {
            async () => await client.GetStatusAsync(new JobReference("job-1")),
            async () => await client.GetResultAsync(new JobReference("job-1")),
            async () => await client.SubmitAsync(TestClientOptions.Request()),
            async () => await client.GetCreditsAsync(),
        })
        {
            try
            {
                var answer = await call();
                var text = answer switch
                {
                    JobStatus s => s.Error + " " + s.Status + " " + s,
                    JobResult r => r.Error + " " + r.Output + " " + r,
                    _ => answer.ToString(),
                };
                Assert.DoesNotContain(TestKeys.Secret, text ?? string.Empty, StringComparison.Ordinal);
            }
            catch (SegmindException error)
            {
                TestKeys.AssertClean(error);
            }
        }

        Assert.NotEmpty(Stub.Requests);
    }
}

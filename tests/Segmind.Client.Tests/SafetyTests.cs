using System.Net;
using System.Net.Sockets;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>Where the key may go, what happens without one, and requests that never leave the machine.</summary>
public sealed class SafetyTests : StubServerTest
{
    public SafetyTests()
        : base(200, "{\"credits\":1}")
    {
    }

    [Fact]
    public async Task WithoutAKeyNothingIsSent()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ApiKey.EnvironmentVariable)))
        {
            // The variable would rightly supply a key; this case cannot be shown here.
            return;
        }

        using var client = Client(options => options.ApiKey = null);

        var credits = await Expect.ThrowsAsync<SegmindAuthenticationException>(() => client.GetCreditsAsync());
        var submit = await Expect.ThrowsAsync<SegmindAuthenticationException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Equal("No API key: pass -ApiKey or set SEGMIND_API_KEY.", credits.Message);
        Assert.Null(credits.StatusCode);
        Assert.Equal("Unauthorized", submit.ErrorId);
        Assert.Empty(Gate.Entries);
        Assert.Empty(Stub.Requests);
    }

    [Theory]
    [InlineData("http://api.example.com/")]
    [InlineData("http://10.1.2.3:8080/")]
    [InlineData("http://localhost.example.com/")]
    public async Task TheKeyIsNeverSentOverPlainHttpToAnotherMachine(string baseUri)
    {
        using var client = Client(options => options.BaseUri = new Uri(baseUri));

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.GetCreditsAsync());
        await Expect.ThrowsAsync<SegmindValidationException>(() => client.SubmitAsync(TestClientOptions.Request()));
        await Expect.ThrowsAsync<SegmindValidationException>(() => client.GetStatusAsync(new JobReference("job-1")));

        Assert.Equal("BaseUri", error.Field);
        Assert.Contains("https", error.Message);
        Assert.Empty(Gate.Entries);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/")]
    [InlineData("http://127.45.6.7:1/")]
    [InlineData("http://localhost:1/")]
    [InlineData("http://[::1]:1/")]
    public async Task PlainHttpIsAllowedToLoopback(string baseUri)
    {
        // Port 1 is closed: the request is made (and refused), which is all this needs to show.
        using var client = Client(options =>
        {
            options.BaseUri = new Uri(baseUri);
            options.Retry.MaxAttempts = 1;
        });

        await Expect.ThrowsAsync<SegmindServerException>(() => client.GetCreditsAsync());

        Assert.Equal(1, Gate.Count(RequestKind.Credits));
    }

    [Fact]
    public async Task AStatusUrlOnAnotherMachineIsNotUsedAndOverPlainHttpIsRefusedEvenWhenTrusted()
    {
        Stub.Handler = (_, stream, ct) => StubServer.WriteAsync(stream, 200, "application/json", "{\"status\":\"QUEUED\",\"request_id\":\"job-1\"}"u8.ToArray(), null, ct);
        var job = new JobReference("job-1", new Uri("http://status.example.com/v2/requests/job-1/status"), new Uri("http://status.example.com/v2/requests/job-1"));
        using (var client = Client())
        {
            // Not the API host: polled at the base address instead.
            await client.GetStatusAsync(job);
            Assert.Equal("/v2/requests/job-1/status", Stub.Requests.Single().Path);
        }

        using var trusting = Client(options => options.TrustedJobHosts = new[] { new Uri("http://status.example.com/") });
        var status = await Expect.ThrowsAsync<SegmindValidationException>(() => trusting.GetStatusAsync(job));
        var result = await Expect.ThrowsAsync<SegmindValidationException>(() => trusting.GetResultAsync(job));

        Assert.Equal("StatusUrl", status.Field);
        Assert.Equal("ResponseUrl", result.Field);
        Assert.Single(Gate.Entries);
    }

    [Fact]
    public async Task AnUploadAddressOverPlainHttpToAnotherMachineIsRefused()
    {
        using var client = Client(options => options.UploadUri = new Uri("http://uploads.example.com/upload-asset"));
        using var folder = new TempFolder();
        var image = folder.File("a.png");
        await File.WriteAllBytesAsync(image, new byte[] { 1 });

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.UploadFilesAsync(new[] { image }));

        Assert.Equal("UploadUri", error.Field);
        Assert.Empty(Gate.Entries);
    }

    [Fact]
    public async Task AnOutputOverPlainHttpFromAnotherMachineIsRefused()
    {
        using var client = Client();
        using var folder = new TempFolder();
        var result = new JobResult("job-1", JobState.Completed, null, new Dictionary<string, object?>(), "http://cdn.example.com/out.mp4", DateTimeOffset.UtcNow);

        var error = await Expect.ThrowsAsync<SegmindValidationException>(() => client.DownloadOutputAsync(result, folder.File("out.mp4")));

        Assert.Equal("Result", error.Field);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task ARefusedConnectionProvesTheSubmitWasNotSentSoItIsRetried()
    {
        using var client = Client(options => options.BaseUri = new Uri($"http://127.0.0.1:{ClosedPort()}/"));

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.SubmitAsync(TestClientOptions.Request()));

        Assert.Contains("nothing was sent", error.Message);
        Assert.Equal(4, Gate.Count(RequestKind.Submit));
    }

    [Fact]
    public async Task AKeyNeverShowsInItsOwnTextOrInOptions()
    {
        var key = TestKeys.Key;
        var options = TestClientOptions.For(Stub.BaseUri, Gate);

        Assert.Equal("***", key.ToString());
        Assert.DoesNotContain(TestKeys.Secret, key.Fingerprint);
        Assert.DoesNotContain(TestKeys.Secret, options.ApiKey!.ToString());
        Assert.DoesNotContain(TestKeys.Secret, System.Text.Json.JsonSerializer.Serialize(key));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task ADisposedClientRefusesWork()
    {
        var client = Client();
        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetCreditsAsync());
        Assert.Empty(Stub.Requests);
    }

    /// <summary>A loopback port nothing listens on: bound, read, released.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

using System.Net.Sockets;
using System.Text;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// A server that drips its answer or never ends it cannot hold a command past its bounds: downloads have a size cap,
/// a minimum throughput and a total deadline besides the idle timer, a wait's timeout covers a status request still
/// in flight, and whatever was half written is removed.
/// </summary>
public sealed class BoundedWaitTests : StubServerTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    protected override void Configure(SegmindClientOptions options) => options.Retry.MaxAttempts = 1;

    private JobResult Output(string path = "outputs/x.mp4") =>
        new("job-1", JobState.Completed, null, new Dictionary<string, object?>(), Stub.BaseUri + path, DateTimeOffset.UtcNow);

    /// <summary>Announces <paramref name="declared"/> bytes (null: none), then sends one byte every <paramref name="every"/> until the client hangs up.</summary>
    private static async Task DripAsync(NetworkStream stream, long? declared, TimeSpan every, string contentType, CancellationToken ct)
    {
        var head = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: ").Append(contentType).Append("\r\n");
        if (declared is { } length)
        {
            head.Append("Content-Length: ").Append(length).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), ct);
        while (!ct.IsCancellationRequested)
        {
            await stream.WriteAsync(new byte[] { (byte)'A' }, ct);
            await Task.Delay(every, ct);
        }
    }

    [Fact]
    public async Task ADownloadThatDripsFailsOnItsMinimumThroughputAndLeavesNoFile()
    {
        Stub.Handler = (_, stream, ct) => DripAsync(stream, 10_000_000, TimeSpan.FromMilliseconds(50), "video/mp4", ct);
        using var client = Client(options =>
        {
            options.RequestTimeout = TimeSpan.FromSeconds(1);
            options.MinDownloadBytesPerSecond = 64 * 1024;
        });
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.DownloadOutputAsync(Output(), folder.File("x.mp4")).WaitAsync(Patience));

        Assert.Contains("too slow", error.Message);
        Assert.Equal("job-1", error.RequestId);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task ADownloadThatNeverEndsStopsAtTheTotalDeadline()
    {
        Stub.Handler = (_, stream, ct) => DripAsync(stream, null, TimeSpan.FromMilliseconds(20), "video/mp4", ct);
        using var client = Client(options =>
        {
            options.MinDownloadBytesPerSecond = 0;
            options.DownloadTimeout = TimeSpan.FromSeconds(1);
        });
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindServerException>(() => client.DownloadOutputAsync(Output(), folder.File("x.mp4")).WaitAsync(Patience));

        Assert.Contains("took longer than its limit", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task AnEndlessOutputStopsAtTheCapAndADeclaredOversizeIsRefusedUpFront()
    {
        var chunk = new byte[64 * 1024];
        Stub.Handler = async (_, stream, ct) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n"), ct);
            for (var i = 0; i < 64 && !ct.IsCancellationRequested; i++)
            {
                await stream.WriteAsync(chunk, ct);
            }
        };
        using var client = Client(options => options.MaxDownloadBytes = 1024 * 1024);
        using var folder = new TempFolder();

        var endless = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.DownloadOutputAsync(Output(), folder.File("x.mp4")).WaitAsync(Patience));
        Assert.Contains("download cap of 1048576 bytes", endless.Message);
        Assert.Contains(SegmindClientOptions.MaxOutputBytesEnvironmentVariable, endless.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));

        Stub.Handler = (_, stream, ct) => StubServer.WriteRawAsync(stream, 200, "video/mp4", new byte[16], 5L * 1024 * 1024 * 1024, null, ct);
        var declared = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.DownloadOutputAsync(Output(), folder.File("x.mp4")).WaitAsync(Patience));
        Assert.Contains("5368709120 seen", declared.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
        Assert.Equal(2, Stub.Requests.Count);
    }

    [Fact]
    public void TheDownloadCapIsFarAboveRealOutputsByDefault()
    {
        using var client = new SegmindClient(TestClientOptions.For(Stub.BaseUri, Gate));
        if (Environment.GetEnvironmentVariable(SegmindClientOptions.MaxOutputBytesEnvironmentVariable) is null)
        {
            Assert.Equal(SegmindClientOptions.DefaultMaxDownloadBytes, client.MaxDownloadBytes());
        }

        Assert.True(SegmindClientOptions.DefaultMaxDownloadBytes >= 1L << 30);
    }

    [Fact]
    public async Task AWaitsTimeoutBoundsAStatusAnswerThatDrips()
    {
        // The request timeout alone would hold the wait for 10 minutes per attempt.
        Stub.Handler = (_, stream, ct) => DripAsync(stream, 100_000, TimeSpan.FromMilliseconds(200), "application/json", ct);
        using var client = Client(options => options.RequestTimeout = TimeSpan.FromMinutes(10));

        var error = await Expect.ThrowsAsync<SegmindWaitTimeoutException>(() => client.WaitAsync(new JobReference("job-1"), TimeSpan.FromSeconds(1)).WaitAsync(Patience));

        Assert.Equal("job-1", error.RequestId);
        Assert.Contains("still unanswered", error.Message);
    }
}

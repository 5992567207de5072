using System.Text;
using Segmind.Client;
using Segmind.Client.IO;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using JobState = Segmind.Client.JobState;

namespace Segmind.Client.Tests;

/// <summary>
/// A base64 output larger than the JSON size cap is still reachable: the result is read without it, and saving it
/// streams the answer again through a decoder to disk; the download cap still bounds it.
/// </summary>
public sealed class LargeBase64OutputTests : StubServerTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static byte[] Video(int size)
    {
        var bytes = new byte[size];
        new Random(7).NextBytes(bytes);
        var head = new byte[] { 0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m' };
        head.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>Base64 the way a JSON encoder may write it: slashes escaped, a line break every 76 characters.</summary>
    private static string JsonEscapedBase64(byte[] bytes) =>
        Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("/", "\\/").Replace("\r\n", "\\n");

    private void ServeResult(string output) =>
        Stub.Handler = (request, stream, ct) =>
        {
            var body = request.Path.EndsWith("/status", StringComparison.Ordinal)
                ? "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"
                : "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"" + output + "\",\"metrics\":{\"cost\":0.5}}";
            return StubServer.WriteAsync(stream, 200, "application/json", Encoding.UTF8.GetBytes(body), null, ct);
        };

    [Theory]
    [InlineData("")]
    [InlineData("data:video/mp4;base64,")]
    public async Task ABase64OutputOverTheJsonCapIsWaitedForAndSavedWhole(string prefix)
    {
        var video = Video(600_000);
        ServeResult(prefix + JsonEscapedBase64(video));
        var options = TestClientOptions.For(Stub.BaseUri, Gate);
        options.MaxResponseBytes = 64 * 1024;
        using var client = new SegmindClient(options);
        using var folder = new TempFolder();

        var result = await client.WaitAsync(new JobReference("job-1"), TimeSpan.FromSeconds(60)).WaitAsync(Patience);
        Assert.Equal(JobState.Completed, result.Status);
        Assert.True(result.OutputHeldBack);
        Assert.Equal(OutputKind.Base64, result.OutputKind);
        Assert.Equal(0.5, result.Cost);

        var saved = await client.DownloadOutputAsync(result, folder.File("big.mp4")).WaitAsync(Patience);

        Assert.Equal(video.Length, saved.Length);
        Assert.Equal(video, await File.ReadAllBytesAsync(saved.Path));
        Assert.DoesNotContain(Directory.GetFiles(folder.Path), file => file.EndsWith(".partial", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHeldBackOutputOverTheDownloadCapIsRefusedNamingTheCap()
    {
        ServeResult(Convert.ToBase64String(Video(300_000)));
        var options = TestClientOptions.For(Stub.BaseUri, Gate);
        options.MaxResponseBytes = 64 * 1024;
        options.MaxDownloadBytes = 100_000;
        options.Retry.MaxAttempts = 1;
        using var client = new SegmindClient(options);

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.GetResultAsync(new JobReference("job-1")));

        Assert.Contains("download cap of 100000 bytes", error.Message);
    }

    [Fact]
    public async Task TheDecoderTakesItsInputInPiecesOfAnySize()
    {
        var video = Video(5000);
        var text = Encoding.ASCII.GetBytes("data:video/mp4;base64," + JsonEscapedBase64(video).Replace("A", "\\u0041"));
        foreach (var piece in new[] { 1, 2, 3, 5, 7, 4096 })
        {
            using var memory = new MemoryStream();
            var sink = new Base64Sink(memory, null);
            for (var i = 0; i < text.Length; i += piece)
            {
                await sink.WriteAsync(text, i, Math.Min(piece, text.Length - i), CancellationToken.None);
            }

            await sink.CompleteAsync(CancellationToken.None);
            Assert.Equal(video, memory.ToArray());
        }
    }

    [Fact]
    public async Task TheDecoderRefusesTextThatIsNotBase64()
    {
        var sink = new Base64Sink(new MemoryStream(), null);
        await sink.WriteAsync("abc"u8.ToArray(), 0, 3, CancellationToken.None);
        await Assert.ThrowsAsync<FormatException>(() => sink.CompleteAsync(CancellationToken.None));
    }
}

/// <summary>An output that is not an address is decoded only when the job asked for base64 and it decodes to a video.</summary>
public sealed class OutputKindTests
{
    private static JobResult Result(string output, bool? asked) =>
        new("job-1", JobState.Completed, null, new Dictionary<string, object?>(), output, DateTimeOffset.UtcNow) { Base64Requested = asked };

    [Theory]
    [InlineData("outputs/job1/", null)]
    [InlineData("AAAAAAAAAAAA", true)]
    [InlineData("aGVsbG8gd29ybGQh", null)]
    [InlineData("AAAAGGZ0eXBpc29tAAAAAA==", false)]
    public async Task TextThatIsNotBase64OfAVideoOrNotAskedForIsNotSaved(string output, bool? asked)
    {
        using var client = new SegmindClient(new SegmindClientOptions { BaseUri = new Uri("http://127.0.0.1:1/"), ApiKey = TestKeys.Key });
        using var folder = new TempFolder();

        var error = await Expect.ThrowsAsync<SegmindProtocolException>(() => client.DownloadOutputAsync(Result(output, asked), folder.File("x.mp4")));

        Assert.Equal("job-1", error.RequestId);
        Assert.Contains(asked == false ? "did not ask for base64" : "nor base64 of a video", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task Base64OfAVideoIsSavedWhenAskedForOrNotKnown()
    {
        using var client = new SegmindClient(new SegmindClientOptions { BaseUri = new Uri("http://127.0.0.1:1/"), ApiKey = TestKeys.Key });
        using var folder = new TempFolder();

        var saved = await client.DownloadOutputAsync(Result("AAAAGGZ0eXBpc29tAAAAAA==", true), folder.File("a.mp4"));
        var unknown = await client.DownloadOutputAsync(Result("AAAAGGZ0eXBpc29tAAAAAA==", null), folder.File("b.mp4"));

        Assert.Equal(16, saved.Length);
        Assert.Equal(16, unknown.Length);
    }
}

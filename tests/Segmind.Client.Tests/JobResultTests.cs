using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class JobResultTests
{
    [Theory]
    [InlineData("https://cdn.example.test/out.mp4", OutputKind.Url)]
    [InlineData("http://127.0.0.1:5080/outputs/x.mp4", OutputKind.Url)]
    [InlineData("file:///etc/passwd", OutputKind.Url)]
    [InlineData("ftp://example.test/out.mp4", OutputKind.Url)]
    [InlineData("outputs/x.mp4", OutputKind.Url)]
    [InlineData("..\\x.mp4", OutputKind.Url)]
    [InlineData("AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDE=", OutputKind.Base64)]
    [InlineData("AAAA/+Zz\r\nAAAA", OutputKind.Base64)]
    [InlineData("", OutputKind.None)]
    public void OutputKindTellsAddressesFromBase64(string output, OutputKind expected)
    {
        var result = new JobResult("req-1", JobState.Completed, null, new Dictionary<string, object?>(), output, DateTimeOffset.UtcNow);

        Assert.Equal(expected, result.OutputKind);
    }

    [Fact]
    public async Task AnOutputAddressThatIsNotHttpIsRefusedAsAnAddress()
    {
        var result = new JobResult("req-1", JobState.Completed, null, new Dictionary<string, object?>(), "file:///etc/passwd", DateTimeOffset.UtcNow);
        using var client = new SegmindClient(new SegmindClientOptions { BaseUri = new Uri("http://127.0.0.1:9/"), ApiKey = new ApiKey("unused-key") });
        var folder = Path.Combine(Path.GetTempPath(), "segmind-jobresult-" + Guid.NewGuid().ToString("N"));

        var error = await Assert.ThrowsAsync<SegmindValidationException>(() => client.DownloadOutputAsync(result, Path.Combine(folder, "out.mp4")));

        Assert.Contains("not an absolute http or https address", error.Message);
        Assert.False(Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any());
    }
}

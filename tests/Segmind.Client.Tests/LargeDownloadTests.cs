using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>Measures process-wide allocations, so it runs alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeDownloadCollection
{
    public const string Name = "Large download (runs alone)";
}

[Collection(LargeDownloadCollection.Name)]
public sealed class LargeDownloadTests : IClassFixture<EmulatorFixture>
{
    private const long Padding = 100L * 1024 * 1024 + 12_345;

    private readonly EmulatorFixture _emulator;

    public LargeDownloadTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    [Fact]
    public async Task AHundredMegabyteOutputIsStreamedInConstantMemory()
    {
        var server = _emulator.Server;
        server.Options.OutputPaddingBytes = Padding;
        using var client = _emulator.CreateClient(new RecordingGate());
        using var folder = new TempFolder();
        var job = await client.SubmitAsync(TestClientOptions.Request());
        var result = await client.WaitAsync(job.ToReference());

        // Warm the connection and code paths with a small download so the measurement sees only the big one's cost.
        server.Options.OutputPaddingBytes = 0;
        await client.DownloadOutputAsync(result, folder.File("warm-up.mp4"));
        server.Options.OutputPaddingBytes = Padding;

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var saved = await client.DownloadOutputAsync(result, folder.File("big.mp4"));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        var expectedLength = OutputVideo.Length(Padding);
        Assert.Equal(expectedLength, saved.Length);
        Assert.Equal(expectedLength, new FileInfo(saved.Path).Length);
        Assert.True(allocated < 16L * 1024 * 1024, $"Downloading {expectedLength} bytes allocated {allocated} bytes: it was not streamed.");

        var head = new byte[OutputVideo.Asset.Length];
        await using (var file = File.OpenRead(saved.Path))
        {
            await file.ReadExactlyAsync(head);
        }

        Assert.Equal(OutputVideo.Asset.ToArray(), head);
        Assert.Empty(folder.PartialFiles());
    }
}

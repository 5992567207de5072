using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>
/// Saves of one job into one file by several runs at once (two runs of one batch journal): the video is renamed into
/// place only after its record is written, so another run never finds the video without the record that verifies it.
/// </summary>
public sealed class ConcurrentSaveTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;
    private readonly RecordingGate _gate = new();

    public ConcurrentSaveTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private async Task<(SegmindClient Client, JobResult Result)> CompletedJobAsync()
    {
        var client = _emulator.CreateClient(_gate);
        var job = await client.SubmitAsync(TestClientOptions.Request(prompt: "saved twice " + Guid.NewGuid().ToString("N")));
        return (client, await client.WaitAsync(job.ToReference()));
    }

    [Fact]
    public async Task A_video_whose_record_cannot_be_written_is_not_put_in_place()
    {
        var (client, result) = await CompletedJobAsync();
        using var _ = client;
        using var folder = new TempFolder();
        var destination = folder.File("out.mp4");

        // A folder where the record goes: the record cannot be written.
        Directory.CreateDirectory(destination + ".segmind.json");
        await Assert.ThrowsAnyAsync<IOException>(() => client.DownloadOutputAsync(result, destination));

        // Another run must never meet this job's video without its record: it would take it for an unrelated file.
        Assert.False(File.Exists(destination), "The video was renamed into place before its record was written.");
        Assert.Empty(folder.PartialFiles());

        Directory.Delete(destination + ".segmind.json");
        var saved = await client.DownloadOutputAsync(result, destination);
        Assert.False(saved.Skipped);
        Assert.Equal(OutputVideo.Asset.ToArray(), await File.ReadAllBytesAsync(destination));
        Assert.True(File.Exists(destination + ".segmind.json"));
    }

    [Fact]
    public async Task Several_runs_saving_one_job_into_one_file_at_once_all_succeed_and_keep_one_verified_copy()
    {
        // A larger output keeps each save busy long enough for the others to look at the file meanwhile.
        _emulator.Server.Options.OutputPaddingBytes = 8L * 1024 * 1024;
        var (first, result) = await CompletedJobAsync();
        using var _ = first;
        using var folder = new TempFolder();
        const int Runs = 6;
        var clients = Enumerable.Range(0, Runs).Select(_ => _emulator.CreateClient(_gate)).ToList();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var destination = folder.File($"round-{round}.mp4");

                // Each run starts a little later than the one before, so later runs look while earlier ones save.
                var saves = clients.Select(async (client, i) =>
                {
                    await Task.Delay(i * 15);
                    return await client.DownloadOutputAsync(result, destination);
                }).ToList();
                var saved = await Task.WhenAll(saves);

                var expected = OutputVideo.Length(8L * 1024 * 1024);
                Assert.All(saved, s => Assert.Equal(expected, s.Length));
                Assert.Equal(expected, new FileInfo(destination).Length);

                // Whatever each run saw, the file is this job's verified output: a later save keeps it.
                var again = await first.DownloadOutputAsync(result, destination);
                Assert.True(again.Skipped);
            }

            Assert.Empty(folder.PartialFiles());
            Assert.Equal(3, Directory.GetFiles(folder.Path, "*.segmind.json").Length);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}

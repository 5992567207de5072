using Segmind.Client;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// One in-process emulator per test class, on 127.0.0.1 port 0, fast: 1 emulated second is 10 ms and a job
/// processes for 5 emulated seconds. Tests of a class run one after another, so each may reshape the options
/// after calling <see cref="Reset"/>.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    private EmulatorServer? _server;

    public EmulatorServer Server => _server ?? throw new InvalidOperationException("The emulator is not started.");

    public Uri BaseUri => Server.BaseUri;

    public async Task InitializeAsync()
    {
        TestKeys.Watch();
        var options = new EmulatorOptions();
        ApplyDefaults(options);
        _server = await EmulatorServer.StartAsync(options);
    }

    /// <summary>Back to the defaults: options, faults, jobs, counters and credits.</summary>
    public void Reset()
    {
        ApplyDefaults(Server.Options);
        Server.Reset();
    }

    /// <summary>
    /// A client clock that reads the emulator's emulated time at the emulator's scale, with 429 hints stated in that
    /// time: client and emulator then run on the same scaled clock (an emulated hour in 36 real seconds).
    /// </summary>
    public ScaledTimeProvider SharedScaledClock()
    {
        Server.Options.HintsInEmulatedTime = true;
        return new ScaledTimeProvider(Server.Clock.Scale, Server.Clock.EmulatedUtcNow);
    }

    public SegmindClient CreateClient(IRequestGate gate, Action<SegmindClientOptions>? adjust = null)
    {
        var options = TestClientOptions.For(BaseUri, gate);
        adjust?.Invoke(options);
        return new SegmindClient(options);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        TestKeys.AssertNoLeak();
    }

    private static void ApplyDefaults(EmulatorOptions options)
    {
        options.ApiKeys = new List<string> { TestKeys.Secret, TestKeys.Other };
        options.ForbiddenKeys = new List<string>();
        options.StartingCredits = 1000m;
        options.CostPerJob = 0.25m;
        options.TimeScale = 0.01;
        options.HintsInEmulatedTime = false;
        options.QueueSeconds = 0;
        options.ProcessingSeconds = 5;
        options.RetentionSeconds = 3600;
        options.Workers = 4;
        options.RequestsPerMinute = 0;
        options.UploadUrlsField = "file_urls";
        options.OutputPaddingBytes = 0;
        options.FailureProbability = 0;
        options.FailPromptMarker = "[fail]";
        options.FaultSeed = null;
        options.Faults.Clear();
    }
}

/// <summary>Client options for tests: tiny back-offs and poll intervals, generous timeouts.</summary>
public static class TestClientOptions
{
    public static SegmindClientOptions For(Uri baseUri, IRequestGate gate) => new()
    {
        BaseUri = baseUri,
        ApiKey = TestKeys.Key,
        RequestGate = gate,
        Retry = new RetryOptions
        {
            MaxAttempts = 4,
            BaseDelay = TimeSpan.FromMilliseconds(10),
            MaxDelay = TimeSpan.FromMilliseconds(50),
            MaxTotal = TimeSpan.FromSeconds(30),
        },
        PollSchedule = new PollSchedule(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40)),
        RequestTimeout = TimeSpan.FromSeconds(20),
        SyncRunTimeout = TimeSpan.FromSeconds(30),
        WaitTimeout = TimeSpan.FromSeconds(30),
    };

    public static WanAnimateRequest Request(string prompt = "a dancer in a red coat") => new()
    {
        InputVideo = "https://cdn.example.com/motion.mp4",
        ReferenceImage = "https://cdn.example.com/character.png",
        Prompt = prompt,
        Mode = "animation",
        Resolution = "480p",
        Seed = 42,
    };
}

/// <summary>A private folder for files a test writes; deleted with everything in it.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "segmind-client-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Leftover temporary download files (there must be none after a failure).</summary>
    public string[] PartialFiles() => Directory.GetFiles(Path, "*.partial");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

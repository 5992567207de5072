using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Segmind.Client;

namespace Segmind.Benchmarks.Micro;

/// <summary>
/// The per-row and per-job costs inside the core, where BenchmarkDotNet's statistics fit better than a stopwatch:
/// building a submit body, the next poll delay, and tracking 10,000 jobs in one JobPoller (allocations per job).
/// </summary>
[MemoryDiagnoser]
public class CoreMicroBenchmarks
{
    private const int TrackedJobs = 10_000;

    private readonly Random _random = new(7);
    private WanAnimateRequest _request = new();
    private JobReference[] _jobs = Array.Empty<JobReference>();
    private PollSchedule _hourly = PollSchedule.Default;
    private int _attempt;

    [GlobalSetup]
    public void Setup()
    {
        _request = new WanAnimateRequest
        {
            InputVideo = "https://example.com/motion.mp4",
            ReferenceImage = "https://example.com/character.png",
            Prompt = "a dancer on a rooftop at dusk",
            Mode = "animation",
            Resolution = "720p",
            Seed = 42,
        };
        _jobs = Enumerable.Range(0, TrackedJobs)
            .Select(i => new JobReference("job-" + i, new Uri("http://127.0.0.1:1/v2/requests/job-" + i + "/status"), new Uri("http://127.0.0.1:1/v2/requests/job-" + i)))
            .ToArray();

        // Nobody is polled during the benchmark: the first poll is an hour away.
        _hourly = new PollSchedule(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
    }

    [Benchmark(Description = "validate a row and build its submit body")]
    public byte[] SubmitBody()
    {
        _request.Validate();
        return JsonSerializer.SerializeToUtf8Bytes(_request.ToParameters());
    }

    [Benchmark(Description = "next poll delay")]
    public TimeSpan NextPollDelay() => PollSchedule.Default.NextDelay(_attempt++ % 40, _random);

    [Benchmark(Description = "track then cancel 10,000 jobs in one JobPoller", OperationsPerInvoke = TrackedJobs)]
    public int TrackJobs()
    {
        using var cancel = new CancellationTokenSource();
        using var poller = new JobPoller(new SilentSource());
        var deadline = DateTimeOffset.UtcNow.AddHours(2);
        foreach (var job in _jobs)
        {
            poller.Track(job, _hourly, deadline, cancel.Token);
        }

        var tracked = poller.TrackedCount;
        cancel.Cancel();
        return tracked;
    }

    public static void Run()
    {
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "segmind-bench-micro"));
        BenchmarkRunner.Run<CoreMicroBenchmarks>(config);
    }

    /// <summary>Never asked: the benchmark ends every job before its first poll.</summary>
    private sealed class SilentSource : IJobStatusSource
    {
        public Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No poll was due.");

        public Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("No poll was due.");
    }
}

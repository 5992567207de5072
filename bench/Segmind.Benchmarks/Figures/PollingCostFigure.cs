using Segmind.Benchmarks.Harness;
using Segmind.Client;
using Segmind.Emulator;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 3. Status requests per 400-second job, and the delay from the emulator marking a job COMPLETED to the caller
/// holding its result, for the core's back-off (what Wait-WanAnimateJob runs, through the shared JobPoller) against the
/// Python SDK's fixed 1 s and 2 s loops. Time runs faster in the emulator; every schedule is scaled by the same factor
/// and every figure is reported in emulated seconds (real / time scale). Variants run one after another on a reset
/// emulator, so its status counter belongs to one variant.
/// </summary>
public static class PollingCostFigure
{
    private const double MaxStatusRequestsPerJob = 40;
    private const double MaxMedianDelaySeconds = 10;
    private const double MaxStartOffsetSeconds = 2;

    public static async Task RunAsync(BenchSettings settings, Report report)
    {
        var scale = settings.PollTimeScale;
        var jobs = settings.PollJobs;
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = scale;
            options.Workers = Math.Max(64, jobs);
            options.ProcessingSeconds = settings.PollJobSeconds;
        });
        using var raw = new RawSegmindClient(server.BaseUri, Emulators.ApiKey);
        var timeout = TimeSpan.FromSeconds((settings.PollJobSeconds * scale * 4) + 60);
        var schedule = Scaled(PollSchedule.Default, scale);

        // Real jobs vary in length, so a job ends at a random point of its waiter's poll cycle; these jobs all last
        // exactly 400 s, so each waiter starts at a random 0-2 s (emulated) after its submit instead. Same offsets for
        // every variant.
        var offsetRandom = new Random(400);
        var offsets = Enumerable.Range(0, jobs).Select(_ => TimeSpan.FromSeconds(offsetRandom.NextDouble() * MaxStartOffsetSeconds * scale)).ToArray();

        var wait = await MeasureAsync("ours", server, raw, jobs, scale, async submitted =>
        {
            using var client = NewClient(server, schedule);
            return await Task.WhenAll(submitted.Select(async (job, i) =>
            {
                await Task.Delay(offsets[i]).ConfigureAwait(false);
                await client.WaitAsync(Reference(job), timeout).ConfigureAwait(false);
                return DateTimeOffset.UtcNow;
            }));
        });

        var fixedOne = await MeasureAsync("fixed 1 s", server, raw, jobs, scale, submitted => FixedLoopAsync(raw, submitted, offsets, 1, scale, timeout));
        var fixedTwo = await MeasureAsync("fixed 2 s", server, raw, jobs, scale, submitted => FixedLoopAsync(raw, submitted, offsets, 2, scale, timeout));

        var title = $"{settings.PollJobSeconds:0}-second jobs ({jobs} each, emulated time ×{scale})";
        report.Add(new FigureRow(
            "3a",
            "Status requests per job, " + title,
            Units.Number(wait.StatusPerJob),
            Units.Number(fixedOne.StatusPerJob) + " (fixed 1 s) / " + Units.Number(fixedTwo.StatusPerJob) + " (fixed 2 s)",
            Units.Ratio(wait.StatusPerJob / fixedOne.StatusPerJob) + " of fixed 1 s (target ≤ " + MaxStatusRequestsPerJob + " per job)",
            wait.StatusPerJob <= MaxStatusRequestsPerJob ? Verdict.Pass : Verdict.Miss));
        report.Add(new FigureRow(
            "3b",
            "Median detection delay (COMPLETED → result in hand), emulated s",
            Units.Seconds(wait.MedianDelay) + " (p90 " + Units.Seconds(wait.P90Delay) + ")",
            Units.Seconds(fixedOne.MedianDelay) + " (fixed 1 s) / " + Units.Seconds(fixedTwo.MedianDelay) + " (fixed 2 s)",
            "target ≤ " + Units.Seconds(MaxMedianDelaySeconds),
            wait.MedianDelay <= MaxMedianDelaySeconds ? Verdict.Pass : Verdict.Miss));
        report.Note($"3: ours is the core's default back-off (PollSchedule.Default: {PollSchedule.Default.Initial.TotalSeconds:0} s growing ×{PollSchedule.Default.Factor} to {PollSchedule.Default.Max.TotalSeconds:0} s, ±{PollSchedule.Default.Jitter:P0} jitter) through SegmindClient.WaitAsync (the process's shared JobPoller), the call Wait-WanAnimateJob and Invoke-WanAnimate make for each job; the cmdlets cannot be time-scaled, so the core is driven directly. The baselines poll every 1 s or 2 s on a fixed grid, then GET the result (the SDK sleeps the interval after each answer; a grid keeps the loops of one process from falling into step after a GC pause). Every waiter starts a random 0–{MaxStartOffsetSeconds:0} s after its submit (the same offsets for every variant), so jobs end at random points of the poll cycle as real jobs of varying length do. Delay max: ours {Units.Seconds(wait.MaxDelay)}, fixed 1 s {Units.Seconds(fixedOne.MaxDelay)}, fixed 2 s {Units.Seconds(fixedTwo.MaxDelay)}.");
    }

    private sealed record PollingResult(double StatusPerJob, double MedianDelay, double P90Delay, double MaxDelay);

    private static async Task<PollingResult> MeasureAsync(
        string name,
        EmulatorServer server,
        RawSegmindClient raw,
        int count,
        double scale,
        Func<RawJob[], Task<DateTimeOffset[]>> waitAll)
    {
        server.Reset();
        var submitted = await raw.SubmitAllAsync(BenchRows.Parameters(count, "polling"), 16);
        var finished = await waitAll(submitted);
        var statusRequests = server.Counters.Requests(EndpointGroup.Status);
        var delays = new double[count];
        for (var i = 0; i < count; i++)
        {
            var completedAt = server.Counters.CompletedAt(submitted[i].RequestId)
                ?? throw new InvalidOperationException($"{name}: job {submitted[i].RequestId} returned but the emulator never completed it.");
            delays[i] = (finished[i] - completedAt).TotalSeconds / scale;
        }

        var result = new PollingResult(
            statusRequests / (double)count,
            Statistics.Median(delays),
            Statistics.Percentile(delays, 0.9),
            delays.Max());
        Console.Error.WriteLine($"  {name}: {Units.Number(result.StatusPerJob)} status requests/job, median delay {Units.Seconds(result.MedianDelay)} (emulated)");
        return result;
    }

    private static Task<DateTimeOffset[]> FixedLoopAsync(RawSegmindClient raw, RawJob[] jobs, TimeSpan[] offsets, double emulatedSeconds, double scale, TimeSpan timeout)
    {
        var interval = TimeSpan.FromSeconds(emulatedSeconds * scale);
        var deadline = DateTimeOffset.UtcNow + timeout;
        return Task.WhenAll(jobs.Select(async (job, i) =>
        {
            await Task.Delay(offsets[i]).ConfigureAwait(false);
            return await raw.WaitFixedAsync(job, interval, deadline).ConfigureAwait(false);
        }));
    }

    private static SegmindClient NewClient(EmulatorServer server, PollSchedule schedule) => new(new SegmindClientOptions
    {
        BaseUri = server.BaseUri,
        ApiKey = new ApiKey(Emulators.ApiKey),
        PollSchedule = schedule,
    });

    private static JobReference Reference(RawJob job) => new(job.RequestId, job.StatusUrl, job.ResponseUrl);

    /// <summary>The same schedule on an emulated clock: every delay multiplied by the time scale.</summary>
    private static PollSchedule Scaled(PollSchedule schedule, double scale) => new(
        TimeSpan.FromTicks((long)(schedule.Initial.Ticks * scale)),
        TimeSpan.FromTicks((long)(schedule.Max.Ticks * scale)),
        schedule.Factor,
        schedule.Jitter);
}

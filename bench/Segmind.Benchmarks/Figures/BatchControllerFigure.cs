using System.Diagnostics;
using Segmind.Benchmarks.Harness;
using Segmind.Client;
using Segmind.Emulator;

namespace Segmind.Benchmarks.Figures;

/// <summary>
/// 6. The batch controller against Segmind's limits, through the client core (SegmindClient: submit 4 at a time, then
/// WaitAsync per row, the way Invoke-WanAnimate drives it), with client and emulator on one scaled clock
/// (ScaledTimeProvider + HintsInEmulatedTime), so an hour of 400-second jobs runs in seconds:
/// 6a faults vs a clean run; 6b budget and retention vs no admission and a fixed 1 s loop; 6c a real limit; 6d a wrong key.
/// </summary>
public static class BatchControllerFigure
{
    public static async Task RunAsync(BenchSettings settings, Report report)
    {
        await FaultsAsync(settings, report);
        await BudgetAndRetentionAsync(settings, report);
        await RealLimitAsync(settings, report);
        await WrongKeyAsync(report);
    }

    private static async Task FaultsAsync(BenchSettings settings, Report report)
    {
        const int rows = 200;
        const double scale = 0.01;
        var clean = await RunBatchAsync(rows, workers: 20, jobSeconds: 60, scale, rpm: 0, retentionSeconds: 10_000_000, faults: false, PollSchedule.Default, planRetention: null);
        var faulty = await RunBatchAsync(rows, workers: 20, jobSeconds: 60, scale, rpm: 0, retentionSeconds: 10_000_000, faults: true, PollSchedule.Default, planRetention: null);
        var ratio = faulty.WallSeconds / clean.WallSeconds;
        report.Add(new FigureRow(
            "6a",
            "200-row batch, 20 workers × 60 s jobs, under 10 % 429 (Retry-After: 1) on every request + 5 % 5xx + 2 % dropped connections on GETs: wall time (emulated s, core)",
            $"{Units.Seconds(faulty.WallSeconds)}; {faulty.Completed}/{rows} collected; {faulty.MaxAcceptedPerRow} accepted submit(s) per row at most; {faulty.Unknown} request id(s) lost; {faulty.RateLimited} 429s",
            $"{Units.Seconds(clean.WallSeconds)} (same batch, no faults)",
            $"{Units.Ratio(ratio)} (target ≤ 1.50x)",
            ratio <= 1.5 && faulty.Completed == rows && faulty.MaxAcceptedPerRow == 1 && faulty.Unknown == 0 ? Verdict.Pass : Verdict.Miss));
    }

    private static async Task BudgetAndRetentionAsync(BenchSettings settings, Report report)
    {
        const int rows = 100;
        const int workers = 10;
        const double jobSeconds = 400;
        var scale = settings.Quick ? 0.002 : 0.01;
        var planned = await RunBatchAsync(rows, workers, jobSeconds, scale, rpm: 20, retentionSeconds: 3600, faults: false, PollSchedule.Default, planRetention: TimeSpan.FromHours(1));
        var unplanned = await RunBatchAsync(rows, workers, jobSeconds, scale, rpm: 20, retentionSeconds: 3600, faults: false, PollSchedule.Default, planRetention: TimeSpan.FromHours(1000));
        var fixedLoop = await RunBatchAsync(rows, workers, jobSeconds, scale, rpm: 20, retentionSeconds: 3600, faults: false, PollSchedule.Fixed(TimeSpan.FromSeconds(1)), planRetention: TimeSpan.FromHours(1000));

        // Nothing can end sooner than 10 full waves of 400 s each: 100 rows / 10 running at once × 400 s.
        var minimum = Math.Ceiling(rows / (double)workers) * jobSeconds;
        var ratio = planned.WallSeconds / minimum;
        var perJob = planned.Requests / (double)rows;
        report.Add(new FigureRow(
            "6b",
            "100 rows, 400 s jobs, server concurrency 10, 20 RPM counting every request, retention 1 h from submission (scaled time): saved / expired, wall vs the physical minimum (10 waves × 400 s = 4,000 s), requests per job",
            $"{planned.Completed}/{rows} saved, {planned.Lost} expired; {Units.Seconds(planned.WallSeconds)} = {Units.Ratio(ratio)} of the minimum; {Units.Number(perJob)} requests/job: {planned.Breakdown(rows)}",
            $"no admission (retention set to 1,000 h): {unplanned.Completed}/{rows} saved, {unplanned.Lost} expired, {Units.Number(unplanned.Requests / (double)rows)} req/job, {Units.Seconds(unplanned.WallSeconds)}; fixed 1 s loop: {fixedLoop.Completed}/{rows} saved, {fixedLoop.Lost} expired, {Units.Number(fixedLoop.Requests / (double)rows)} req/job, {Units.Seconds(fixedLoop.WallSeconds)}: {fixedLoop.Breakdown(rows)}",
            "target 100/100, 0 expired, ≤ 1.10x, ≤ 6 req/job",
            planned.Completed == rows && planned.Lost == 0 && ratio <= 1.1 && perJob <= 6 ? Verdict.Pass : Verdict.Miss));
    }

    private static async Task RealLimitAsync(BenchSettings settings, Report report)
    {
        const int limit = 30;
        const double scale = 0.01;
        var measureFrom = TimeSpan.FromMinutes(3);
        var measureTo = TimeSpan.FromMinutes(settings.Quick ? 8 : 13);
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = scale;
            options.Workers = 100;
            options.ProcessingSeconds = 100_000;
            options.RequestsPerMinute = limit;
            options.HintsInEmulatedTime = true;
        });
        var time = new ScaledTimeProvider(scale, server.Clock.EmulatedUtcNow);
        using var client = Client(server, time, PollSchedule.Default, TimeSpan.FromHours(1000), gate: out var gate);
        using var stop = new CancellationTokenSource();

        // 60 long jobs polled on the default schedule want far more than 30 requests a minute.
        var rows = BenchRows.Parameters(60, "limit").Select(async row =>
        {
            var job = await client.SubmitAsync("wan-animate", row.ToDictionary(p => p.Key, p => p.Value), stop.Token);
            try
            {
                await client.WaitAsync(job.ToReference(), TimeSpan.FromHours(100), cancellationToken: stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }).ToList();

        var start = time.GetUtcNow();
        await time.Delay(measureFrom);
        var total0 = server.Counters.TotalRequests;
        var refused0 = server.Counters.RateLimitedResponses;
        await time.Delay(measureTo - measureFrom);
        var total = server.Counters.TotalRequests - total0;
        var refused = server.Counters.RateLimitedResponses - refused0;
        stop.Cancel();
        await Task.WhenAll(rows.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));

        var minutes = (measureTo - measureFrom).TotalMinutes;
        var acceptedPerMinute = (total - refused) / minutes;
        var share = total == 0 ? 0 : refused / (double)total;
        report.Add(new FigureRow(
            "6c",
            $"At a real limit: emulator {limit} requests a minute per key, 60 jobs polled on the default schedule, minutes 3–{measureTo.TotalMinutes:0} (scaled time)",
            $"{Units.Number(acceptedPerMinute)} accepted requests/min ({Units.Number(acceptedPerMinute / limit * 100, "0")} % of {limit}); {Units.Number(share * 100, "0.0")} % answered 429; gate learned {gate.LearnedRequestsPerMinute?.ToString("0.0") ?? "none"}/min",
            $"{limit}/min (the limit)",
            "target ≥ 90 % of the limit, < 5 % 429",
            acceptedPerMinute >= 0.9 * limit && share < 0.05 ? Verdict.Pass : Verdict.Miss));
    }

    private static async Task WrongKeyAsync(Report report)
    {
        await using var server = await Emulators.StartAsync(options => options.TimeScale = 0.01);
        var stop = new BatchStop();
        using var gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 });
        using var client = new SegmindClient(new SegmindClientOptions
        {
            BaseUri = server.BaseUri,
            ApiKey = new ApiKey("a-key-this-account-does-not-have"),
            RequestGate = gate,
            BatchStop = stop,
        });

        var rows = BenchRows.Parameters(1000, "wrong-key");
        var attempts = rows.Select(async row =>
        {
            try
            {
                await client.SubmitAsync("wan-animate", row.ToDictionary(p => p.Key, p => p.Value));
            }
            catch (SegmindException)
            {
            }
        });
        await Task.WhenAll(attempts);
        var sent = server.Counters.TotalRequests;
        report.Add(new FigureRow(
            "6d",
            "Wrong key on a 1,000-row batch, 4 in flight (core; the module turns the stop into one terminating error, tested in ErrorMappingTests)",
            $"{sent} request(s) sent; {stop.HeldBack} held back; stopped by {stop.Fatal?.ErrorId ?? "nothing"}",
            "1,000 (one per row, before)",
            "target ≤ 4 sent",
            sent <= 4 && stop.Fatal != null ? Verdict.Pass : Verdict.Miss));
    }

    private sealed record BatchOutcome(double WallSeconds, int Completed, int Lost, int Unknown, long Requests, long RateLimited, long MaxAcceptedPerRow, long Submits, long Polls, long Fetches, double MedianDetection, double P90Detection)
    {
        /// <summary>Where the requests went, per job: submits, status polls, result fetches (429s included in each), and the detection delay.</summary>
        public string Breakdown(int rows) =>
            $"per job {Units.Number(Submits / (double)rows)} submit, {Units.Number(Polls / (double)rows)} status, {Units.Number(Fetches / (double)rows)} result ({Units.Number(RateLimited / (double)rows)} of them 429); detection median {Units.Seconds(MedianDetection)} (p90 {Units.Seconds(P90Detection)})";
    }

    private static async Task<BatchOutcome> RunBatchAsync(int rows, int workers, double jobSeconds, double scale, int rpm, double retentionSeconds, bool faults, PollSchedule schedule, TimeSpan? planRetention)
    {
        await using var server = await Emulators.StartAsync(options =>
        {
            options.TimeScale = scale;
            options.Workers = workers;
            options.ProcessingSeconds = jobSeconds;
            options.RequestsPerMinute = rpm;
            options.RetentionSeconds = retentionSeconds;
            options.RetentionFrom = RetentionStart.Submission;
            options.HintsInEmulatedTime = true;
            if (faults)
            {
                options.Faults.All = new FaultProfile { RateLimitFaultProbability = 0.10, RateLimitRetryAfterSeconds = 1 };
                var gets = new FaultProfile { ServerErrorProbability = 0.05, DropConnectionProbability = 0.02 };
                options.Faults.Status = gets;
                options.Faults.Result = gets;
            }
        });
        var time = new ScaledTimeProvider(scale, server.Clock.EmulatedUtcNow);
        using var client = Client(server, time, schedule, planRetention ?? TimeSpan.FromHours(1), gate: out _);
        using var submitting = new SemaphoreSlim(4);
        var completed = 0;
        var lost = 0;
        var unknown = 0;
        var detections = new System.Collections.Concurrent.ConcurrentBag<double>();
        var start = time.GetUtcNow();
        var tasks = BenchRows.Parameters(rows, "controller").Select(async row =>
        {
            SubmittedJob job;
            await submitting.WaitAsync();
            try
            {
                job = await client.SubmitAsync("wan-animate", row.ToDictionary(p => p.Key, p => p.Value));
            }
            catch (SegmindSubmitOutcomeUnknownException)
            {
                Interlocked.Increment(ref unknown);
                return;
            }
            finally
            {
                submitting.Release();
            }

            try
            {
                var result = await client.WaitAsync(job.ToReference(), TimeSpan.FromHours(10));
                if (result.Status == Segmind.Client.JobState.Completed)
                {
                    Interlocked.Increment(ref completed);
                    if (server.Counters.CompletedAt(job.RequestId) is DateTimeOffset completedAt)
                    {
                        // The emulator stamps completion on the wall clock: back to emulated seconds.
                        detections.Add((DateTimeOffset.UtcNow - completedAt).TotalSeconds / scale);
                    }
                }
            }
            catch (SegmindNotFoundException)
            {
                Interlocked.Increment(ref lost);
            }
        });
        await Task.WhenAll(tasks);
        var wall = (time.GetUtcNow() - start).TotalSeconds;
        var maxPerRow = server.Counters.AcceptedJobsByFingerprint.Count == 0 ? 0 : server.Counters.AcceptedJobsByFingerprint.Max(pair => pair.Value);
        var sorted = detections.OrderBy(d => d).ToArray();
        double Quantile(double q) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
        return new BatchOutcome(
            wall, completed, lost, unknown, server.Counters.TotalRequests, server.Counters.RateLimitedResponses, maxPerRow,
            server.Counters.Requests(EndpointGroup.Submit), server.Counters.Requests(EndpointGroup.Status), server.Counters.Requests(EndpointGroup.Result),
            Quantile(0.5), Quantile(0.9));
    }

    private static SegmindClient Client(EmulatorServer server, TimeProvider time, PollSchedule schedule, TimeSpan retention, out RequestGate gate)
    {
        gate = new RequestGate(new RequestGateOptions { ThrottleLimit = 4 }, time);
        return new SegmindClient(new SegmindClientOptions
        {
            BaseUri = server.BaseUri,
            ApiKey = new ApiKey(Emulators.ApiKey),
            RequestGate = gate,
            TimeProvider = time,
            PollSchedule = schedule,
            Retention = retention,
            RequestTimeout = TimeSpan.FromHours(5),
            Retry = new RetryOptions { MaxAttempts = 8, MaxTotal = TimeSpan.FromHours(1) },
        });
    }
}

using System.Collections.Concurrent;
using System.Management.Automation;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>Waiting: results as they complete, FAILED and expired jobs, timeouts that can be resumed, progress and Ctrl+C.</summary>
public sealed class WaitBehaviourTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string Submit = "New-WanAnimateJob -InputVideo https://media.example.com/in.mp4 -ReferenceImage https://media.example.com/face.png";

    /// <summary>A job that would take about three real hours: it only ends when a test completes it.</summary>
    private const double EndlessSeconds = 1_000_000;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly EmulatorFixture _emulator;

    public WaitBehaviourTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public void Each_result_is_written_as_soon_as_its_job_completes_not_at_the_end()
    {
        _emulator.Reset(o => o.ProcessingSeconds = EndlessSeconds);
        using var session = _emulator.OpenSession();
        var ids = session.Run($"1..2 | ForEach-Object {{ {Submit} -Prompt \"job $_\" }}").ThrowOnError()
            .Objects("WanAnimateJob").Select(j => j.Get<string>("RequestId")!).ToList();
        session.SetVariable("ids", ids.ToArray());

        using var shell = session.CreateShell($"$ids | Wait-WanAnimateJob {FastPoll}");
        var output = new PSDataCollection<PSObject>();
        var arrivals = new ConcurrentQueue<(string RequestId, DateTimeOffset At)>();
        using var firstArrived = new ManualResetEventSlim();
        output.DataAdded += (_, e) =>
        {
            var item = output[e.Index];
            arrivals.Enqueue((item.Get<string>("RequestId")!, DateTimeOffset.UtcNow));
            firstArrived.Set();
        };
        var running = shell.BeginInvoke<PSObject, PSObject>(null, output);

        _emulator.Server.CompleteJob(ids[0]);
        Assert.True(firstArrived.Wait(Patience), "The first result never arrived.");
        Assert.False(running.IsCompleted, "Wait-WanAnimateJob ended although a job was still running.");
        Assert.Null(_emulator.Server.Counters.FinishedAt(ids[1]));

        _emulator.Server.CompleteJob(ids[1]);
        Assert.True(running.AsyncWaitHandle.WaitOne(Patience), "Wait-WanAnimateJob did not finish.");
        shell.EndInvoke(running);

        var order = arrivals.ToArray();
        Assert.Equal(ids, order.Select(a => a.RequestId).ToArray());
        Assert.True(order[0].At < _emulator.Server.Counters.CompletedAt(ids[1]), "The first result should be out before the second job completed.");
    }

    [Fact]
    public void Progress_is_one_aggregate_bar_written_on_the_pipeline_thread()
    {
        using var session = _emulator.OpenSession();
        using var shell = session.CreateShell(
            $"[System.Threading.Thread]::CurrentThread.ManagedThreadId; 1..3 | ForEach-Object {{ {Submit} -Prompt \"progress $_\" }} | Wait-WanAnimateJob {FastPoll}");
        var progressThreads = new ConcurrentBag<int>();
        shell.Streams.Progress.DataAdded += (_, _) => progressThreads.Add(Environment.CurrentManagedThreadId);

        var output = shell.Invoke();

        Assert.False(shell.HadErrors, string.Join("\n", shell.Streams.Error));
        var pipelineThread = Assert.IsType<int>(output[0].BaseObject);
        Assert.Equal(3, output.Count(o => o.IsModuleType("WanAnimateResult")));
        // The submits have their own bar (see SubmitTests); the wait bar is one aggregate.
        var records = shell.Streams.Progress.Where(r => r.Activity != "Submitting Wan Animate jobs").ToList();
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Equal("Waiting for Wan Animate jobs", r.Activity));
        Assert.All(records, r => Assert.Matches(@"^\d+ completed, \d+ failed, \d+ running, elapsed \d\d:\d\d$", r.StatusDescription));
        Assert.Single(records.Select(r => r.ActivityId).Distinct());
        var last = records[^1];
        Assert.Equal(ProgressRecordType.Completed, last.RecordType);
        Assert.StartsWith("3 completed, 0 failed, 0 running", last.StatusDescription);
        Assert.All(progressThreads, id => Assert.Equal(pipelineThread, id));
    }

    [Fact]
    public void A_FAILED_job_is_a_non_terminating_JobFailed_error_pointing_at_the_job()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(
            $"& {{ {Submit} -Prompt 'good'; {Submit} -Prompt 'bad [fail]' }} | Wait-WanAnimateJob {FastPoll}; 'after'");

        Assert.Null(result.Terminating);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.JobFailed", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidResult, error.CategoryInfo.Category);
        Assert.Contains("Content blocked", error.ToString());
        var target = Assert.IsType<PSObject>(error.TargetObject);
        Assert.True(target.IsModuleType("WanAnimateJob"));
        Assert.Equal("bad [fail]", target.Get<string>("Prompt"));
        Assert.Equal("after", result.Output[^1].BaseObject);
        Assert.Equal("good", result.Objects("WanAnimateResult").Single().Get<string>("Prompt"));

        // Asked directly, FAILED is data, not an error.
        session.SetVariable("failed", target);
        var status = session.Run("$failed | Get-WanAnimateStatus").ThrowOnError().Objects("WanAnimateStatus").Single();
        Assert.Equal("FAILED", status.Get<string>("Status"));
        Assert.Contains("Content blocked", status.Get<string>("Error"));
    }

    [Fact]
    public void Unknown_and_expired_ids_are_NotFound_errors_that_mention_the_one_hour_retention()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var job = session.Run($"{Submit} -Prompt 'expires' | Wait-WanAnimateJob {FastPoll}").ThrowOnError().Objects("WanAnimateResult").Single();
        var id = job.Get<string>("RequestId")!;
        _emulator.Server.ExpireJob(id);

        var unknown = session.Run("Get-WanAnimateStatus -RequestId no-such-request; 'after'");
        var expired = session.Run("Save-WanAnimateOutput -RequestId $args[0] -Directory $args[1]", id, directory.Path);
        var waited = session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll}", id);

        foreach (var result in new[] { unknown, expired, waited })
        {
            var error = Assert.Single(result.Errors);
            Assert.StartsWith("WanAnimate.NotFound", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Contains("1 hour", error.ToString());
        }

        Assert.Equal("after", unknown.Output[^1].BaseObject);
        Assert.Empty(Directory.GetFiles(directory.Path));
    }

    [Fact]
    public void A_timeout_leaves_the_job_running_and_a_later_wait_resumes_it()
    {
        _emulator.Reset(o => o.ProcessingSeconds = EndlessSeconds);
        using var session = _emulator.OpenSession();
        var job = session.Run($"{Submit} -Prompt 'slow'").ThrowOnError().Objects("WanAnimateJob").Single();
        var id = job.Get<string>("RequestId")!;
        session.SetVariable("job", job);

        var timedOut = session.Run($"$job | Wait-WanAnimateJob -Timeout 0.3 {FastPoll}; 'after'");

        var error = Assert.Single(timedOut.Errors);
        Assert.StartsWith("WanAnimate.WaitTimeout", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, error.CategoryInfo.Category);
        Assert.Contains("Wait-WanAnimateJob -RequestId " + id, error.ToString());
        Assert.Equal(id, error.Exception.GetType().GetProperty("RequestId")?.GetValue(error.Exception));
        Assert.Equal("after", timedOut.Output[^1].BaseObject);
        Assert.Null(_emulator.Server.Counters.FinishedAt(id));

        _emulator.Server.CompleteJob(id);
        var resumed = session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll}", id).ThrowOnError();
        Assert.Equal("COMPLETED", resumed.Objects("WanAnimateResult").Single().Get<string>("Status"));
    }

    [Fact]
    public void Stopping_the_pipeline_while_waiting_returns_promptly_after_the_jobs_were_written()
    {
        _emulator.Reset(o => o.ProcessingSeconds = EndlessSeconds);
        using var session = _emulator.OpenSession();
        var submitted = new List<object>();
        session.SetVariable("submitted", submitted);
        using var shell = session.CreateShell(
            $"1..2 | ForEach-Object {{ {Submit} -Prompt \"stop $_\" }} | ForEach-Object {{ $submitted.Add($_); $_ }} | Wait-WanAnimateJob {FastPoll}");

        var running = shell.BeginInvoke();
        var deadline = DateTime.UtcNow + Patience;
        while (_emulator.Server.Counters.Requests(EndpointGroup.Status) < 4 && DateTime.UtcNow < deadline && !running.IsCompleted)
        {
            Thread.Sleep(20);
        }

        Assert.False(running.IsCompleted, "The wait ended on its own.");
        var stopping = shell.BeginStop(null, null);
        Assert.True(stopping.AsyncWaitHandle.WaitOne(Patience), "Stop did not return.");
        shell.EndStop(stopping);
        Assert.Throws<PipelineStoppedException>(() => shell.EndInvoke(running));
        Assert.Equal(PSInvocationState.Stopped, shell.InvocationStateInfo.State);

        Assert.Equal(2, submitted.Count);
        Assert.All(submitted, s => Assert.True(PSObject.AsPSObject(s).IsModuleType("WanAnimateJob")));
        Assert.Equal(2, _emulator.Server.Counters.AcceptedSubmits);
    }
}

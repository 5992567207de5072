using System.Management.Automation;
using Segmind.Emulator;
using JobState = System.Management.Automation.JobState;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>-AsJob: a real PowerShell job that Get-Job, Wait-Job, Receive-Job, Stop-Job and Remove-Job understand.</summary>
public sealed class BackgroundJobTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string Rows = "$rows = 1..2 | ForEach-Object { [pscustomobject]@{ InputVideo = \"https://media.example.com/$_.mp4\"; ReferenceImage = 'https://media.example.com/face.png'; Prompt = \"job row $_\" } }";

    private readonly EmulatorFixture _emulator;

    public BackgroundJobTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public void A_successful_job_completes_and_hands_its_results_to_Receive_Job()
    {
        using var session = _emulator.OpenSession();

        var started = session.Run(Rows + $"\n$job = $rows | Invoke-WanAnimate -AsJob {FastPoll}; $job").ThrowOnError();
        var job = Assert.IsAssignableFrom<Job>(Assert.Single(started.Output).BaseObject);
        Assert.Equal("SegmindJob", job.PSJobTypeName);
        Assert.Contains(job.JobStateInfo.State, new[] { JobState.Running, JobState.Completed });

        var found = session.Run("Get-Job -Id $job.Id").ThrowOnError();
        Assert.Same(job, Assert.Single(found.Output).BaseObject);

        var waited = session.Run("$job | Wait-Job -Timeout 60 | Out-Null; $job.JobStateInfo.State; $job.HasMoreData; $job.StatusMessage").ThrowOnError();
        Assert.Equal(JobState.Completed, waited.Output[0].BaseObject);
        Assert.Equal(true, waited.Output[1].BaseObject);
        Assert.StartsWith("2 completed, 0 failed, 0 running", (string)waited.Output[2].BaseObject);

        var received = session.Run("Receive-Job $job; $job.HasMoreData").ThrowOnError();
        Assert.Equal(2, received.Objects("WanAnimateResult").Count);
        Assert.All(received.Objects("WanAnimateResult"), r => Assert.Equal("COMPLETED", r.Get<string>("Status")));
        Assert.Equal(false, received.Output[^1].BaseObject);

        session.Run("Remove-Job $job").ThrowOnError();
        Assert.Empty(session.Run("Get-Job").ThrowOnError().Output);
    }

    [Fact]
    public void A_job_with_errors_ends_Failed_and_Receive_Job_shows_them()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(
            Rows + $"\n$rows[1].Prompt = 'blocked [fail]'\n$job = $rows | New-WanAnimateJob | Wait-WanAnimateJob -AsJob {FastPoll}\n$null = $job | Wait-Job -Timeout 60\n$job.JobStateInfo.State\nReceive-Job $job");

        Assert.Null(result.Terminating);
        Assert.Equal(JobState.Failed, result.Output[0].BaseObject);
        Assert.Single(result.Objects("WanAnimateResult"));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.JobFailed", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidResult, error.CategoryInfo.Category);
    }

    [Fact]
    public void Status_checks_and_saves_run_as_jobs_too()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var results = session.Run(Rows + $"\n$rows | Invoke-WanAnimate {FastPoll}").ThrowOnError().Objects("WanAnimateResult");
        session.SetVariable("results", results.ToArray());

        var output = session.Run(
            "$a = $results | Get-WanAnimateStatus -AsJob; $b = $results | Save-WanAnimateOutput -Directory $args[0] -AsJob; $b2 = New-WanAnimateJob -InputVideo https://media.example.com/x.mp4 -ReferenceImage https://media.example.com/y.png -Prompt later -AsJob\n" +
            "$null = $a, $b, $b2 | Wait-Job -Timeout 60; $a.JobStateInfo.State; $b.JobStateInfo.State; $b2.JobStateInfo.State; Receive-Job $a, $b, $b2",
            directory.Path).ThrowOnError();

        Assert.Equal(new object[] { JobState.Completed, JobState.Completed, JobState.Completed }, output.Output.Take(3).Select(o => o.BaseObject).ToArray());
        Assert.Equal(2, output.Objects("WanAnimateStatus").Count);
        Assert.Equal(2, output.Objects("WanAnimateResult").Count);
        Assert.Single(output.Objects("WanAnimateJob"));
        Assert.Equal(2, Directory.GetFiles(directory.Path, "*.mp4").Length);
    }

    [Fact]
    public void Stop_Job_stops_a_long_wait_and_cancels_its_polling()
    {
        _emulator.Reset(o => o.ProcessingSeconds = 1_000_000);
        using var session = _emulator.OpenSession();
        session.Run(Rows + $"\n$job = $rows | New-WanAnimateJob | Wait-WanAnimateJob -AsJob {FastPoll}").ThrowOnError();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (_emulator.Server.Counters.Requests(EndpointGroup.Status) < 4 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }

        var stopped = session.Run("Stop-Job $job; $job.JobStateInfo.State; $job.StatusMessage").ThrowOnError();

        Assert.Equal(JobState.Stopped, stopped.Output[0].BaseObject);
        Assert.EndsWith("Stopped.", (string)stopped.Output[1].BaseObject);

        // Once stopped, nothing polls any more: with a 50 ms interval a live wait would poll several times in
        // half a second. (The first pause lets a request that was already on the wire arrive and be counted.)
        Thread.Sleep(500);
        var pollsAfterStop = _emulator.Server.Counters.Requests(EndpointGroup.Status);
        Thread.Sleep(500);
        Assert.Equal(pollsAfterStop, _emulator.Server.Counters.Requests(EndpointGroup.Status));
        session.Run("Remove-Job $job").ThrowOnError();
    }

    [Fact]
    public void WhatIf_is_decided_before_the_job_starts_and_the_job_sends_nothing()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(Rows + "\n$job = $rows | New-WanAnimateJob -AsJob -WhatIf; $null = $job | Wait-Job -Timeout 60; $job.JobStateInfo.State; Receive-Job $job").ThrowOnError();

        Assert.Equal(JobState.Completed, result.Output[0].BaseObject);
        Assert.Single(result.Output);
        Assert.Equal(0, _emulator.Server.Counters.TotalRequests);
    }
}

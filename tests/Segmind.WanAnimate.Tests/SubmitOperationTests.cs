using System.Management.Automation;
using System.Text.Json;
using Segmind.Client.Tests.TestSupport;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// The journaled submit operation seen from the cmdlets: jobs in input order, the always-on ledger and
/// Get-WanAnimateJob, and a run ended by a terminating error that still keeps every paid job.
/// </summary>
public sealed class SubmitOperationTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";

    private readonly EmulatorFixture _emulator;

    public SubmitOperationTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    /// <summary>CSV-shaped rows with identities unique to one test; row <paramref name="badRow"/> (1-based) names a missing local file.</summary>
    private static PSObject[] Rows(string name, int count, int badRow = 0) => Enumerable.Range(1, count).Select(i =>
    {
        var row = new PSObject();
        row.Properties.Add(new PSNoteProperty("Id", $"{name}-{i}"));
        row.Properties.Add(new PSNoteProperty("input_video", i == badRow ? "./no-such-video-" + name + ".mp4" : $"https://media.example.com/{name}-{i}.mp4"));
        row.Properties.Add(new PSNoteProperty("reference_image", "https://media.example.com/hero.png"));
        row.Properties.Add(new PSNoteProperty("prompt", $"{name} row {i}"));
        row.Properties.Add(new PSNoteProperty("mode", "animation"));
        return row;
    }).ToArray();

    /// <summary>Request id -> row id of every accepted submit in the (test run's) ledger.</summary>
    private static Dictionary<string, string> LedgerAccepted()
    {
        var path = Path.Combine(LedgerIsolation.Folder, "ledger.jsonl");
        var accepted = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return accepted;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        foreach (var line in reader.ReadToEnd().Split('\n').Where(l => l.StartsWith('{') && l.EndsWith('}')))
        {
            var record = JsonDocument.Parse(line).RootElement;
            if (record.GetProperty("kind").GetString() == "accepted")
            {
                accepted[record.GetProperty("request_id").GetString()!] = record.GetProperty("row").GetString()!;
            }
        }

        return accepted;
    }

    [Fact]
    public void New_WanAnimateJob_writes_the_jobs_in_input_order_whatever_order_they_are_accepted_in()
    {
        // Half the answers are slow, so later rows are often accepted before earlier ones.
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 0.5;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.2;
        using var session = _emulator.OpenSession();
        var rows = Rows("order", 8);

        var result = session.Run("$args[0] | New-WanAnimateJob -ThrottleLimit 8", (object)rows).ThrowOnError();

        var jobs = result.Objects("WanAnimateJob");
        Assert.Equal(rows.Select(r => (string)r.Properties["Id"].Value), jobs.Select(j => j.Get<string>("RowId")));
        Assert.Equal(Enumerable.Range(1, 8), jobs.Select(j => j.Get<int>("Row")));
    }

    [Fact]
    public void Every_accepted_submit_is_in_the_ledger_and_Get_WanAnimateJob_pipes_it_into_Wait()
    {
        using var session = _emulator.OpenSession();
        var rows = Rows("ledger-" + Guid.NewGuid().ToString("N")[..8], 3);
        var since = DateTime.Now.AddSeconds(-1);

        var submitted = session.Run("$args[0] | New-WanAnimateJob", (object)rows).ThrowOnError().Objects("WanAnimateJob");

        var ledger = LedgerAccepted();
        Assert.All(submitted, job => Assert.Equal(job.Get<string>("RowId"), ledger[job.Get<string>("RequestId")!]));
        var ids = submitted.Select(j => j.Get<string>("RequestId")).ToArray();
        session.SetVariable("ids", ids);
        var listed = session.Run("Get-WanAnimateJob -Status pending -Since $args[0] | Where-Object RequestId -in $ids", since).ThrowOnError().Objects("WanAnimateLedgerEntry");
        Assert.Equal(ids.OrderBy(i => i), listed.Select(e => e.Get<string>("RequestId")).OrderBy(i => i));
        Assert.All(listed, e => Assert.StartsWith("https://media.example.com/", e.Get<string>("InputVideo")));

        var waited = session.Run($"Get-WanAnimateJob -Status pending | Where-Object RequestId -in $ids | Wait-WanAnimateJob {FastPoll}").ThrowOnError().Objects("WanAnimateResult");
        Assert.Equal(ids.OrderBy(i => i), waited.Select(r => r.Get<string>("RequestId")).OrderBy(i => i));
        Assert.All(waited, r => Assert.Contains(r.Get<string>("RowId"), rows.Select(row => (string)row.Properties["Id"].Value)));

        var completed = session.Run("@(Get-WanAnimateJob -Status completed | Where-Object RequestId -in $ids).Count; @(Get-WanAnimateJob -Last 1).Count").ThrowOnError();
        Assert.Equal(3, (int)completed.Output[0].BaseObject);
        Assert.Equal(1, (int)completed.Output[1].BaseObject);
    }

    [Fact]
    public void Get_WanAnimateJob_says_clearly_when_the_ledger_is_off()
    {
        using var session = _emulator.OpenSession();

        // The variable is the process's: restored before the script ends, whatever happens.
        var error = session.CatchTerminating("$env:SEGMIND_LEDGER = 'off'; try { Get-WanAnimateJob } finally { [Environment]::SetEnvironmentVariable('SEGMIND_LEDGER', $null) }");

        Assert.NotNull(error);
        Assert.StartsWith("WanAnimate.LedgerUnavailable", error!.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
    }

    public static TheoryData<int, bool, bool> StopCases()
    {
        var cases = new TheoryData<int, bool, bool>();
        for (var bad = 1; bad <= 6; bad++)
        {
            cases.Add(bad, false, false);
            cases.Add(bad, true, true);
            cases.Add(bad, bad % 2 == 0, bad % 2 == 1);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(StopCases))]
    public void A_run_stopped_by_a_bad_row_keeps_every_accepted_submit_in_the_ledger_and_in_the_pipeline_or_a_warning(int badRow, bool journaled, bool preferenceVariable)
    {
        // Slow answers keep earlier rows' submits on the wire when the bad row stops the run.
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 1;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.3;
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var name = $"stop{badRow}{(journaled ? "j" : "n")}{(preferenceVariable ? "p" : "a")}-{Guid.NewGuid().ToString("N")[..6]}";
        var rows = Rows(name, 6, badRow);
        var journal = directory.File("batch.journal");
        // The bad row reaches the cmdlet only once the earlier rows' submits (up to the throttle) have reached the server.
        var onTheWire = Math.Min(3, badRow - 1);
        session.SetVariable("counters", _emulator.Server.Counters);
        var feed = "$args[0] | ForEach-Object { if ($_.Id -like '*-" + badRow + "') { while ($counters.Requests([Segmind.Emulator.EndpointGroup]::Submit) -lt " + onTheWire
            + ") { [System.Threading.Thread]::Sleep(10) } }; $_ }";
        var command = feed + " | New-WanAnimateJob -ThrottleLimit 3" + (journaled ? " -JournalPath $args[1]" : string.Empty);
        var script = preferenceVariable ? "$ErrorActionPreference = 'Stop'; " + command : command + " -ErrorAction Stop";

        var result = session.Run(script, rows, journal);

        Assert.NotNull(result.Terminating);
        var accepted = _emulator.Server.Counters.AcceptedRequestIds;

        // Every submit that was on the wire was answered and kept; none after the bad row was sent.
        Assert.True(accepted.Count == onTheWire, $"{accepted.Count} submits were accepted with the bad row at {badRow}.\n{result.Describe()}");
        var ledger = LedgerAccepted();
        var written = result.Objects("WanAnimateJob").Select(j => j.Get<string>("RequestId")!).ToHashSet(StringComparer.Ordinal);
        var warned = string.Join("\n", result.Warnings.Select(w => w.Message));
        foreach (var id in accepted)
        {
            Assert.True(ledger.ContainsKey(id), $"{id} was accepted but is not in the ledger.");
            Assert.True(written.Contains(id) || warned.Contains(id, StringComparison.Ordinal), $"{id} is neither in the pipeline nor in a warning.\n{result.Describe()}");
        }

        if (journaled)
        {
            var journalText = File.ReadAllText(journal);
            Assert.All(accepted, id => Assert.Contains("\"kind\":\"submitted\"", journalText.Split('\n').First(l => l.Contains(id, StringComparison.Ordinal))));
        }
    }

    [Fact]
    public void Submits_show_a_progress_bar_of_submitted_rows_rows_waiting_for_budget_and_the_rate()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run("$args[0] | New-WanAnimateJob -ThrottleLimit 2", (object)Rows("progress", 4)).ThrowOnError();

        var bars = result.Progress.Where(p => p.Activity == "Submitting Wan Animate jobs").ToList();
        Assert.NotEmpty(bars);
        Assert.All(bars, b => Assert.Matches(@"^\d+ submitted, \d+ waiting for budget, \d+ sending(, \d+ not submitted)?(, \d+ unknown)?; rate ", b.StatusDescription));
        Assert.Equal(ProgressRecordType.Completed, bars[^1].RecordType);
        Assert.StartsWith("4 submitted, 0 waiting for budget, 0 sending", bars[^1].StatusDescription);
    }

    [Fact]
    public void Stop_Job_keeps_every_accepted_submit_in_the_ledger_and_in_the_job_output_or_its_warnings()
    {
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 1;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.5;
        using var session = _emulator.OpenSession();
        session.SetVariable("counters", _emulator.Server.Counters);
        var rows = Rows("stopjob-" + Guid.NewGuid().ToString("N")[..6], 6);

        var result = session.Run(
            """
            $job = $args[0] | New-WanAnimateJob -AsJob -ThrottleLimit 2
            while ($counters.Requests([Segmind.Emulator.EndpointGroup]::Submit) -lt 2) { [System.Threading.Thread]::Sleep(10) }
            Stop-Job $job
            $null = Wait-Job $job -Timeout 60
            [pscustomobject]@{
                State = "$($job.JobStateInfo.State)"
                Ids = @($job.Output | ForEach-Object RequestId)
                Warnings = @($job.Warning | ForEach-Object Message) -join "`n"
            }
            """,
            (object)rows).ThrowOnError();

        var report = result.Output.Single();
        Assert.Equal("Stopped", report.Get<string>("State"));
        var ids = ((object[])report.Get<object>("Ids")!).Select(o => o.ToString()!).ToHashSet(StringComparer.Ordinal);
        var warnings = report.Get<string>("Warnings") ?? string.Empty;
        var accepted = _emulator.Server.Counters.AcceptedRequestIds;
        Assert.Equal(2, accepted.Count);
        var ledger = LedgerAccepted();
        Assert.All(accepted, id =>
        {
            Assert.True(ledger.ContainsKey(id), id + " is not in the ledger.");
            Assert.True(ids.Contains(id) || warnings.Contains(id, StringComparison.Ordinal), id + " is neither in the job's output nor in its warnings.");
        });
    }

    [Fact]
    public void A_stopped_pipeline_waits_for_the_submits_on_the_wire_and_keeps_them_in_the_ledger()
    {
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 1;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.5;
        using var session = _emulator.OpenSession();
        var rows = Rows("ctrlc-" + Guid.NewGuid().ToString("N")[..6], 6);

        using (var shell = session.CreateShell("$args[0] | New-WanAnimateJob -ThrottleLimit 2", (object)rows))
        {
            var running = shell.BeginInvoke();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (_emulator.Server.Counters.Requests(Segmind.Emulator.EndpointGroup.Submit) < 2 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(5);
            }

            // Stop returns once the cmdlet has settled: the two submits on the wire were answered and recorded.
            shell.Stop();
            Assert.True(running.IsCompleted);
        }

        var accepted = _emulator.Server.Counters.AcceptedRequestIds;
        Assert.Equal(2, accepted.Count);
        Assert.Equal(2, _emulator.Server.Counters.Requests(Segmind.Emulator.EndpointGroup.Submit));
        var ledger = LedgerAccepted();
        Assert.All(accepted, id => Assert.True(ledger.ContainsKey(id), id + " is not in the ledger."));
    }
}

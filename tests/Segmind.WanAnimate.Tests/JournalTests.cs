using System.Management.Automation;
using System.Text.Json;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>-JournalPath: what is written when, what a re-run does with it, and what it never contains.</summary>
public sealed class JournalTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";

    private readonly EmulatorFixture _emulator;

    public JournalTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    /// <summary>CSV-shaped rows with URL inputs; each prompt names the test so fingerprints stay apart.</summary>
    private static string Rows(string name, int count) =>
        $"$rows = 1..{count} | ForEach-Object {{ [pscustomobject]@{{ input_video = \"https://media.example.com/{name}-$_.mp4\"; reference_image = 'https://media.example.com/hero.png'; prompt = \"{name} row $_\"; mode = 'animation'; resolution = '480p' }} }}\n";

    private static string Fingerprint(string name, int row) =>
        EmulatorCounters.Fingerprint($"https://media.example.com/{name}-{row}.mp4", "https://media.example.com/hero.png", $"{name} row {row}", "animation", "480p", 987778);

    private static List<JsonElement> Records(string journalPath) =>
        File.ReadAllLines(journalPath).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string Kind(JsonElement record) => record.GetProperty("kind").GetString()!;

    [Fact]
    public void Each_job_is_journaled_as_submitted_before_the_next_command_sees_it()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");

        // Downstream, each job looks into the journal the moment it arrives.
        var result = session.Run(
            Rows("seen", 4) + """
            $journal = $args[0]
            $rows | New-WanAnimateJob -JournalPath $journal | ForEach-Object {
                $job = $_
                $lines = [System.IO.File]::ReadAllLines($journal)
                $row = '"row":"' + $job.RowId + '"'
                $submitting = @($lines | Where-Object { $_.Contains('"kind":"submitting"') -and $_.Contains($row) }).Count
                $submitted = @($lines | Where-Object { $_.Contains('"kind":"submitted"') -and $_.Contains($row) -and $_.Contains('"request_id":"' + $job.RequestId + '"') }).Count
                [pscustomobject]@{ RequestId = $job.RequestId; Submitting = $submitting; Submitted = $submitted }
            }
            """,
            journal);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        Assert.Equal(4, result.Output.Count);
        Assert.All(result.Output, seen =>
        {
            Assert.Equal(1, Convert.ToInt32(seen.Properties["Submitting"].Value));
            Assert.Equal(1, Convert.ToInt32(seen.Properties["Submitted"].Value));
        });

        // And in the file, each row's submitting record comes before its submitted record.
        var records = Records(journal);
        foreach (var submitted in records.Where(r => Kind(r) == "submitted"))
        {
            var row = submitted.GetProperty("row").GetString();
            var submittingIndex = records.FindIndex(r => Kind(r) == "submitting" && r.GetProperty("row").GetString() == row);
            Assert.InRange(submittingIndex, 0, records.IndexOf(submitted) - 1);
        }
    }

    [Fact]
    public void A_rerun_with_the_same_journal_submits_nothing_and_its_jobs_are_waited_on()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("nested/batch.journal");

        var first = session.Run(Rows("rerun", 3) + "$rows | New-WanAnimateJob -JournalPath $args[0]", journal).ThrowOnError();
        var firstIds = first.Objects("WanAnimateJob").Select(j => j.Get<string>("RequestId")).OrderBy(i => i).ToArray();
        Assert.Equal(3, firstIds.Length);
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);

        var second = session.Run(
            Rows("rerun", 3) + $"$rows | New-WanAnimateJob -JournalPath $args[0] -Verbose | Wait-WanAnimateJob -JournalPath $args[0] {FastPoll}",
            journal);

        Assert.True(second.Errors.Count == 0 && second.Terminating == null, second.Describe());
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);
        var results = second.Objects("WanAnimateResult");
        Assert.Equal(firstIds, results.Select(r => r.Get<string>("RequestId")).OrderBy(i => i).ToArray());
        Assert.All(results, r => Assert.Equal("COMPLETED", r.Get<string>("Status")));
        Assert.Equal(3, second.Verbose.Count(v => v.Message.Contains("already submitted as", StringComparison.Ordinal) && v.Message.Contains("not re-sent", StringComparison.Ordinal)));
        for (var row = 1; row <= 3; row++)
        {
            Assert.Equal(1, _emulator.Server.Counters.AcceptedJobsFor(Fingerprint("rerun", row)));
        }

        // The outcomes were recorded: waiting on the journal alone finds nothing left to wait for.
        Assert.Equal(3, Records(journal).Count(r => Kind(r) == "completed"));
        var alone = session.Run("Wait-WanAnimateJob -JournalPath $args[0] " + FastPoll, journal);
        Assert.True(alone.Errors.Count == 0 && alone.Terminating == null, alone.Describe());
        Assert.Empty(alone.Objects("WanAnimateResult"));
    }

    [Fact]
    public void Wait_with_only_a_journal_resumes_every_submitted_job_and_Save_with_only_a_journal_saves_them()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");

        var submitted = session.Run(Rows("alone", 3) + "$rows | New-WanAnimateJob -JournalPath $args[0]", journal).ThrowOnError();
        var ids = submitted.Objects("WanAnimateJob").Select(j => j.Get<string>("RequestId")).OrderBy(i => i).ToArray();

        var waited = session.Run("Wait-WanAnimateJob -JournalPath $args[0] " + FastPoll, journal);
        Assert.True(waited.Errors.Count == 0 && waited.Terminating == null, waited.Describe());
        Assert.Equal(ids, waited.Objects("WanAnimateResult").Select(r => r.Get<string>("RequestId")).OrderBy(i => i).ToArray());
        Assert.Equal(
            submitted.Objects("WanAnimateJob").Select(j => j.Get<string>("RowId")).OrderBy(i => i),
            waited.Objects("WanAnimateResult").Select(r => r.Get<string>("RowId")).OrderBy(i => i));

        var saved = session.Run("Save-WanAnimateOutput -JournalPath $args[0] -Directory $args[1]", journal, videos);
        Assert.True(saved.Errors.Count == 0 && saved.Terminating == null, saved.Describe());
        var files = saved.Objects("WanAnimateResult").Select(r => r.Get<string>("OutputFile")!).ToList();
        Assert.Equal(ids.Select(i => Path.Combine(videos, i + ".mp4")).OrderBy(p => p), files.OrderBy(p => p));
        Assert.All(files, f => Assert.True(Mp4.StartsWithFtypBox(f), f));
        Assert.Equal(3, Records(journal).Count(r => Kind(r) == "saved"));

        // Everything is saved now: a second save from the journal has nothing to do and downloads nothing.
        var downloads = _emulator.Server.Counters.Requests(EndpointGroup.Output);
        var again = session.Run("Save-WanAnimateOutput -JournalPath $args[0] -Directory $args[1]", journal, videos).ThrowOnError();
        Assert.Empty(again.Objects("WanAnimateResult"));
        Assert.Equal(downloads, _emulator.Server.Counters.Requests(EndpointGroup.Output));
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void Invoke_with_a_journal_rewrites_saved_rows_from_it_without_fetching_or_downloading_again()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");
        var script = Rows("saved", 3) + $"$rows | Invoke-WanAnimate -JournalPath $args[0] -OutputDirectory $args[1] {FastPoll}";

        var first = session.Run(script, journal, videos);
        Assert.True(first.Errors.Count == 0 && first.Terminating == null, first.Describe());
        var firstFiles = first.Objects("WanAnimateResult").Select(r => r.Get<string>("OutputFile")).OrderBy(f => f).ToArray();
        Assert.Equal(3, firstFiles.Length);
        var results = _emulator.Server.Counters.Requests(EndpointGroup.Result);
        var downloads = _emulator.Server.Counters.Requests(EndpointGroup.Output);
        var polls = _emulator.Server.Counters.Requests(EndpointGroup.Status);

        var second = session.Run(script, journal, videos);

        Assert.True(second.Errors.Count == 0 && second.Terminating == null, second.Describe());
        Assert.Equal(firstFiles, second.Objects("WanAnimateResult").Select(r => r.Get<string>("OutputFile")).OrderBy(f => f).ToArray());
        Assert.All(second.Objects("WanAnimateResult"), r => Assert.Equal("COMPLETED", r.Get<string>("Status")));
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(results, _emulator.Server.Counters.Requests(EndpointGroup.Result));
        Assert.Equal(downloads, _emulator.Server.Counters.Requests(EndpointGroup.Output));
        Assert.Equal(polls, _emulator.Server.Counters.Requests(EndpointGroup.Status));

        // A saved video that disappeared is fetched and saved again, still without a new submit.
        File.Delete(firstFiles[0]!);
        var third = session.Run(script, journal, videos);
        Assert.True(third.Errors.Count == 0 && third.Terminating == null, third.Describe());
        Assert.True(File.Exists(firstFiles[0]!));
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(downloads + 1, _emulator.Server.Counters.Requests(EndpointGroup.Output));
    }

    [Fact]
    public void Rows_whose_submit_outcome_is_unknown_are_reported_and_only_ResubmitUnknown_sends_them_again()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");
        var script = Rows("unknown", 2) + "$rows | New-WanAnimateJob -JournalPath $args[0]";

        // Every submit is accepted (and charged), then its connection dropped: the answer is lost.
        _emulator.Server.Options.Faults.Submit.DropConnectionProbability = 1;
        _emulator.Server.Options.Faults.Submit.DropAfterAcceptProbability = 1;
        var lost = session.Run(script, journal);
        Assert.Equal(2, lost.Errors.Count(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)));
        Assert.Equal(2, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(2, Records(journal).Count(r => Kind(r) == "unknown"));
        _emulator.Server.Options.Faults.Clear();

        // Re-run: reported again, with what to do, and not re-sent.
        var rerun = session.Run(script, journal);
        var reported = rerun.Errors.Where(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, reported.Count);
        Assert.All(reported, e =>
        {
            Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);
            Assert.Matches("^Row [12] \\(auto-[0-9a-f]{32}\\): ", e.ErrorDetails.Message);
            Assert.Contains("-ResubmitUnknown", e.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
        });
        Assert.Empty(rerun.Objects("WanAnimateJob"));
        Assert.Equal(2, _emulator.Server.Counters.AcceptedSubmits);

        // The user checked the account and decided: submit them again.
        var resubmitted = session.Run(Rows("unknown", 2) + "$rows | New-WanAnimateJob -JournalPath $args[0] -ResubmitUnknown", journal);
        Assert.True(resubmitted.Errors.Count == 0 && resubmitted.Terminating == null, resubmitted.Describe());
        Assert.Equal(2, resubmitted.Objects("WanAnimateJob").Count);
        Assert.Equal(4, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(2, Records(journal).Count(r => Kind(r) == "released"));

        // They are submitted now: the switch does not send them a third time.
        var settled = session.Run(Rows("unknown", 2) + "$rows | New-WanAnimateJob -JournalPath $args[0] -ResubmitUnknown", journal).ThrowOnError();
        Assert.Equal(2, settled.Objects("WanAnimateJob").Count);
        Assert.Equal(4, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void A_refused_submit_is_journaled_as_not_submitted_and_the_next_run_submits_it()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");
        var script = "New-WanAnimateJob -InputVideo https://media.example.com/refused.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'refused once' -JournalPath $args[0]";

        var refused = session.Run(script.Replace("New-WanAnimateJob", "New-WanAnimateJob -ApiKey 'not-a-key'", StringComparison.Ordinal), journal);
        Assert.Contains(refused.Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.Unauthorized", StringComparison.Ordinal));
        Assert.Equal("not-submitted", Kind(Records(journal).Last()));

        var accepted = session.Run(script, journal).ThrowOnError();
        Assert.Single(accepted.Objects("WanAnimateJob"));
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void Identical_rows_of_one_run_are_submitted_once_unless_their_Ids_differ()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var same = session.Run(
            """
            $row = [pscustomobject]@{ InputVideo = 'https://media.example.com/twice.mp4'; ReferenceImage = 'https://media.example.com/a.png'; Prompt = 'twice' }
            $row, $row | New-WanAnimateJob -JournalPath $args[0]
            """,
            directory.File("same.journal"));
        Assert.Single(same.Objects("WanAnimateJob"));
        var duplicate = Assert.Single(same.Errors);
        Assert.StartsWith("WanAnimate.DuplicateRow", duplicate.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Contains("Row 2", duplicate.ErrorDetails.Message, StringComparison.Ordinal);
        Assert.Contains("row 1", duplicate.ErrorDetails.Message, StringComparison.Ordinal);
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);

        var distinct = session.Run(
            """
            1..2 | ForEach-Object { [pscustomobject]@{ Id = "take-$_"; InputVideo = 'https://media.example.com/twice.mp4'; ReferenceImage = 'https://media.example.com/a.png'; Prompt = 'twice' } } |
                New-WanAnimateJob -JournalPath $args[0]
            """,
            directory.File("distinct.journal")).ThrowOnError();
        Assert.Equal(new[] { "take-1", "take-2" }, distinct.Objects("WanAnimateJob").Select(j => j.Get<string>("RowId")).OrderBy(i => i).ToArray());
        Assert.Equal(3, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void The_journal_never_contains_the_api_key_nor_the_query_of_signed_input_urls()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");

        var result = session.Run(
            $"New-WanAnimateJob -InputVideo 'https://media.example.com/signed.mp4?sig=secret-signature' -ReferenceImage https://media.example.com/a.png -Prompt 'keyless' -JournalPath $args[0] | Wait-WanAnimateJob -JournalPath $args[0] {FastPoll} | Save-WanAnimateOutput -Directory $args[1] -JournalPath $args[0]",
            journal,
            directory.File("videos"));

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var text = File.ReadAllText(journal);
        Assert.Contains("\"saved\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(EmulatorFixture.ApiKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-signature", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RequestsPerMinute_and_ThrottleLimit_are_accepted_by_every_cmdlet_that_talks_to_the_api()
    {
        using var session = _emulator.OpenSession();

        var names = session.Run(
            """
            'New-WanAnimateJob','Invoke-WanAnimate','Wait-WanAnimateJob','Get-WanAnimateStatus','Save-WanAnimateOutput' | ForEach-Object {
                $command = Get-Command $_
                if ($command.Parameters.ContainsKey('RequestsPerMinute') -and $command.Parameters.ContainsKey('ThrottleLimit')) { $_ }
            }
            """).ThrowOnError().Output.Select(o => (string)o.BaseObject).ToArray();
        Assert.Equal(5, names.Length);

        // 0 means unlimited and is accepted; a negative rate is refused before anything is sent.
        var unlimited = session.Run($"New-WanAnimateJob -InputVideo https://media.example.com/rate.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'rate' -RequestsPerMinute 0 | Wait-WanAnimateJob -RequestsPerMinute 0 -ThrottleLimit 4 {FastPoll}");
        Assert.True(unlimited.Errors.Count == 0 && unlimited.Terminating == null, unlimited.Describe());
        Assert.Single(unlimited.Objects("WanAnimateResult"));
        var refused = session.CatchTerminating("New-WanAnimateJob -InputVideo https://media.example.com/rate.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'rate' -RequestsPerMinute -1");
        Assert.NotNull(refused);
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);
    }
}

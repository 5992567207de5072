using System.Diagnostics;
using System.Management.Automation;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// -JournalPath as an Azure table (Azurite, a real Table endpoint): a batch that survives the machine, as a runbook
/// restarted in a fresh sandbox or run on two workers at once needs, and a SAS that is never shown.
/// </summary>
public sealed class TableJournalTests : IClassFixture<EmulatorFixture>, IClassFixture<AzuriteServer>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly EmulatorFixture _emulator;
    private readonly AzuriteServer _azurite;

    public TableJournalTests(EmulatorFixture emulator, AzuriteServer azurite)
    {
        _emulator = emulator;
        _azurite = azurite;
        // The fixture's reset leaves the retention as the last test set it; one test here shortens it.
        _emulator.Reset(options => options.RetentionSeconds = 3600);
    }

    private async Task<(string Address, string Table)> NewTableAsync(string prefix)
    {
        var address = _azurite.NewTableAddress(prefix);
        var table = address.Substring(address.LastIndexOf('/') + 1);
        await _azurite.CreateTableAsync(table);
        return (address, table);
    }

    private ScriptResult RunBatch(PowerShellSession session, IEnumerable<BatchRow> rows, string address, string credential, string videos) =>
        session.Run($"$args[0] | Invoke-WanAnimate -JournalPath $args[1] -JournalCredential $args[2] -OutputDirectory $args[3] {FastPoll} -Verbose", BatchRow.AsCsvRows(rows), address, credential, videos);

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException("Gave up waiting until " + what + ".");
            }

            Thread.Sleep(20);
        }
    }

    [Fact]
    public async Task A_journaled_batch_on_a_table_resumes_in_a_fresh_sandbox_without_submitting_or_downloading_again()
    {
        var (address, table) = await NewTableAsync("batch");
        var sas = AzuriteServer.TableSas(table, "rau");
        var rows = BatchRow.Make("table", 6);
        using var first = new TemporaryDirectory();
        using (var session = _emulator.OpenSession())
        {
            var run = RunBatch(session, rows, address, sas, first.File("videos"));
            Assert.True(run.Errors.Count == 0 && run.Terminating == null, run.Describe());
            Assert.Equal(rows.Count, run.Objects("WanAnimateResult").Count);
            AssertSecretNowhere(run, sas);
        }

        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        var downloads = _emulator.Server.Counters.Requests(EndpointGroup.Output);

        // The sandbox is gone with its files; a new one has only the table.
        first.Dispose();
        using var second = new TemporaryDirectory();
        var videos = second.File("videos");
        using (var session = _emulator.OpenSession())
        {
            var rerun = RunBatch(session, rows, address, sas, videos);
            Assert.True(rerun.Errors.Count == 0 && rerun.Terminating == null, rerun.Describe());
            var results = rerun.Objects("WanAnimateResult");
            Assert.Equal(rows.Select(r => r.Id).OrderBy(i => i), results.Select(r => r.Get<string>("RowId")).OrderBy(i => i));
            Assert.All(results, r => Assert.True(Mp4.StartsWithFtypBox(r.Get<string>("OutputFile")!)));
            AssertSecretNowhere(rerun, sas);
        }

        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        Assert.All(rows, r => Assert.Equal(1, _emulator.Server.Counters.AcceptedJobsFor(r.Fingerprint)));
        Assert.Equal(downloads + rows.Count, _emulator.Server.Counters.Requests(EndpointGroup.Output));

        // Saved where the table says, and the files are there: nothing is fetched again.
        using (var session = _emulator.OpenSession())
        {
            var again = RunBatch(session, rows, address, sas, videos);
            Assert.True(again.Errors.Count == 0 && again.Terminating == null, again.Describe());
            Assert.Equal(rows.Count, again.Objects("WanAnimateResult").Count);
        }

        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(downloads + rows.Count, _emulator.Server.Counters.Requests(EndpointGroup.Output));

        var entities = await _azurite.RawEntitiesAsync(table);
        Assert.Equal(rows.Count, rows.Count(r => entities.Contains("\"Row\":\"" + r.Id + "\"", StringComparison.Ordinal)));
        AssertNotIn(entities, sas, "the journal table");
        AssertNotInFiles(second.Path, sas);
        AssertNotInFiles(LedgerIsolation.Folder, sas);
    }

    [Fact]
    public async Task A_sas_without_write_rights_stops_the_batch_with_one_clear_error_before_anything_is_submitted()
    {
        var (address, table) = await NewTableAsync("readonly");
        var sas = AzuriteServer.TableSas(table, "r");
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var run = RunBatch(session, BatchRow.Make("ro", 3), address, sas, directory.File("videos"));

        // Statement-terminating inside the script: exactly one error, and the batch never started.
        var error = Assert.Single(run.Errors);
        Assert.StartsWith("WanAnimate.JournalAccessDenied", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.PermissionDenied, error.CategoryInfo.Category);
        Assert.Contains("read, add and update", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(run.Objects("WanAnimateResult"));
        Assert.Equal(0, _emulator.Server.Counters.Requests(EndpointGroup.Submit));
        AssertSecretNowhere(run, sas);
        AssertNotIn(error.ErrorDetails?.RecommendedAction ?? string.Empty, sas, "the recommended action");
        AssertNotIn(error.Exception.ToString(), sas, "the exception");
    }

    [Fact]
    public async Task A_killed_run_resumes_from_the_table_in_a_second_process_with_a_fresh_temp_folder()
    {
        // Jobs run 4 seconds and submits answer slowly, one at a time: the kill lands mid-batch, before any job finished.
        _emulator.Server.Options.ProcessingSeconds = 400;
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 1;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.3;
        var (address, table) = await NewTableAsync("killed");
        var sas = new Dictionary<string, string> { ["SEGMIND_JOURNAL_SAS"] = AzuriteServer.TableSas(table, "rau") };
        var rows = BatchRow.Make("killed", 10);

        using (var sandbox = new TemporaryDirectory())
        using (var child = TestHostProcess.Start(sandbox, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), address, sandbox.File("videos"), throttleLimit: 1, environment: sas))
        {
            WaitUntil(() => _emulator.Server.Counters.AcceptedSubmits >= 3 || child.HasExited, "three rows were submitted");
            child.Kill();
            Assert.DoesNotContain(child.Lines, l => l == "DONE");
        }

        // However far the killed run got (on a loaded machine it may even have sent every row), the re-run must not repeat it.
        Assert.InRange(_emulator.Server.Counters.AcceptedSubmits, 3, rows.Count);
        _emulator.Server.Options.Faults.Clear();
        _emulator.Server.Options.ProcessingSeconds = 5;

        using var fresh = new TemporaryDirectory();
        int unknownCount;
        using (var child = TestHostProcess.Start(fresh, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), address, fresh.File("videos"), throttleLimit: 4, environment: sas))
        {
            WaitUntil(() => child.HasExited, "the second process finished");
            var lines = child.Lines;
            Assert.Contains("DONE", lines);
            var unknown = lines.Where(l => l.StartsWith("ERROR WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)).ToList();
            Assert.True(lines.Count(l => l.StartsWith("ERROR", StringComparison.Ordinal)) == unknown.Count, string.Join("\n", lines));

            // Killed with at most one submit on the wire (one at a time): every other row ends with its video.
            Assert.InRange(unknown.Count, 0, 1);
            unknownCount = unknown.Count;
            Assert.Equal(rows.Count - unknown.Count, lines.Count(l => l.StartsWith("RESULT", StringComparison.Ordinal)));
        }

        Assert.All(rows, r => Assert.InRange(_emulator.Server.Counters.AcceptedJobsFor(r.Fingerprint), 0, 1));
        Assert.True(_emulator.Server.Counters.AcceptedSubmits >= rows.Count - 1);
        Assert.Equal(rows.Count - unknownCount, Directory.GetFiles(fresh.File("videos"), "*.mp4").Length);
    }

    [Fact]
    public async Task Two_processes_on_one_table_at_once_submit_each_row_exactly_once()
    {
        var (address, table) = await NewTableAsync("twice");
        var sas = new Dictionary<string, string> { ["SEGMIND_JOURNAL_SAS"] = AzuriteServer.TableSas(table, "rau") };
        var rows = BatchRow.Make("twice", 16);
        using var one = new TemporaryDirectory();
        using var two = new TemporaryDirectory();
        using var first = TestHostProcess.Start(one, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), address, one.File("videos"), throttleLimit: 2, environment: sas);
        using var second = TestHostProcess.Start(two, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), address, two.File("videos"), throttleLimit: 2, environment: sas);

        WaitUntil(() => first.HasExited && second.HasExited, "both processes finished");

        var lines = first.Lines.Concat(second.Lines).ToList();
        Assert.True(first.Lines.Contains("DONE") && second.Lines.Contains("DONE"), string.Join("\n", lines));
        Assert.All(rows, r => Assert.True(_emulator.Server.Counters.AcceptedJobsFor(r.Fingerprint) == 1, $"{r.Id} was accepted {_emulator.Server.Counters.AcceptedJobsFor(r.Fingerprint)} times."));
        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);

        // Every row's video was saved by one process or the other; a row the other run held is reported, never sent.
        var results = lines.Where(l => l.StartsWith("RESULT", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).Distinct().ToList();
        Assert.Equal(rows.Count, results.Count);
        Assert.All(lines.Where(l => l.StartsWith("ERROR", StringComparison.Ordinal)), l => Assert.Contains("Claimed", l, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Rows_saved_in_a_lost_sandbox_after_their_results_expired_are_written_from_the_table_without_errors()
    {
        // Results are kept 3 seconds here instead of an hour.
        _emulator.Server.Options.RetentionSeconds = 300;
        var (address, table) = await NewTableAsync("expired");
        var sas = AzuriteServer.TableSas(table, "rau");
        var rows = BatchRow.Make("expired", 3);
        using (var first = new TemporaryDirectory())
        using (var session = _emulator.OpenSession())
        {
            var run = RunBatch(session, rows, address, sas, first.File("videos"));
            Assert.True(run.Errors.Count == 0 && run.Terminating == null, run.Describe());
        }

        WaitUntil(() => _emulator.Server.Counters.JobsExpired >= rows.Count, "the results expired");
        var requests = _emulator.Server.Counters.TotalRequests;

        using var second = new TemporaryDirectory();
        using (var session = _emulator.OpenSession())
        {
            var rerun = RunBatch(session, rows, address, sas, second.File("videos"));
            Assert.True(rerun.Errors.Count == 0 && rerun.Terminating == null, rerun.Describe());
            Assert.Equal(rows.Count, rerun.Objects("WanAnimateResult").Count);
            Assert.Equal(rows.Count, rerun.Verbose.Count(v => v.Message.Contains("not fetched again", StringComparison.Ordinal)));
        }

        // Nothing sent, and at most one result request per row (the 404 that proves it is gone).
        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        Assert.InRange(_emulator.Server.Counters.TotalRequests - requests, 0, rows.Count);
    }

    [Fact]
    public async Task New_Wait_and_Save_share_one_table_journal_and_Wait_resumes_from_it_alone()
    {
        var (address, table) = await NewTableAsync("split");
        var sas = AzuriteServer.TableSas(table, "rau");
        var rows = BatchRow.Make("split", 4);
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var submitted = session.Run("$args[0] | New-WanAnimateJob -JournalPath $args[1] -JournalCredential $args[2]", BatchRow.AsCsvRows(rows), address, sas);
        Assert.True(submitted.Errors.Count == 0 && submitted.Terminating == null, submitted.Describe());
        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);

        // No piped input: the table alone says which jobs to wait for and save.
        var saved = session.Run(
            $"Wait-WanAnimateJob -JournalPath $args[0] -JournalCredential $args[1] {FastPoll} | Save-WanAnimateOutput -Directory $args[2] -JournalPath $args[0] -JournalCredential $args[1]",
            address,
            sas,
            directory.File("videos"));
        Assert.True(saved.Errors.Count == 0 && saved.Terminating == null, saved.Describe());
        Assert.Equal(rows.Count, Directory.GetFiles(directory.File("videos"), "*.mp4").Length);
        AssertSecretNowhere(saved, sas);

        var entities = await _azurite.RawEntitiesAsync(table);
        Assert.Equal(rows.Count, System.Text.RegularExpressions.Regex.Matches(entities, "\"Kind\":\"saved\"").Count);
        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);

        // The gallery only reads the table: a read-only SAS is enough, and nothing is written.
        var readOnly = AzuriteServer.TableSas(table, "r");
        var page = directory.File("gallery.html");
        var gallery = session.Run("Export-WanAnimateGallery -JournalPath $args[0] -JournalCredential $args[1] -Path $args[2]", address, readOnly, page);
        Assert.True(gallery.Errors.Count == 0 && gallery.Terminating == null, gallery.Describe());
        var html = File.ReadAllText(page);
        Assert.All(rows, r => Assert.Contains(r.Id, html, StringComparison.Ordinal));
        AssertNotIn(html, readOnly, "the gallery");
        Assert.Equal(entities.Length, (await _azurite.RawEntitiesAsync(table)).Length);
    }

    private static void AssertSecretNowhere(ScriptResult run, string sas)
    {
        var texts = new List<string>();
        texts.AddRange(run.Output.Select(o => string.Join("|", o.Properties.Select(p => p.Name + "=" + p.Value))));
        texts.AddRange(run.Errors.Select(e => e + "|" + e.Exception + "|" + e.ErrorDetails?.Message + "|" + e.ErrorDetails?.RecommendedAction + "|" + e.TargetObject));
        texts.AddRange(run.Warnings.Select(w => w.Message));
        texts.AddRange(run.Verbose.Select(v => v.Message));
        texts.AddRange(run.Information.Select(i => i.MessageData?.ToString() ?? string.Empty));
        texts.AddRange(run.Progress.Select(p => p.Activity + "|" + p.StatusDescription + "|" + p.CurrentOperation));
        if (run.Terminating != null)
        {
            texts.Add(run.Terminating.ToString());
        }

        foreach (var text in texts)
        {
            AssertNotIn(text, sas, "the command's streams");
        }
    }

    private static void AssertNotInFiles(string folder, string sas)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            AssertNotIn(File.ReadAllText(file), sas, file);
        }
    }

    private static void AssertNotIn(string text, string sas, string where)
    {
        var signature = Uri.UnescapeDataString(sas.Split("sig=")[1]);
        Assert.False(text.Contains(sas, StringComparison.Ordinal), "The SAS appeared in " + where);
        Assert.False(text.Contains(signature, StringComparison.Ordinal) || text.Contains(Uri.EscapeDataString(signature), StringComparison.Ordinal), "The SAS signature appeared in " + where);
    }
}

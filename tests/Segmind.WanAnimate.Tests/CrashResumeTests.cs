using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// A journaled batch interrupted anywhere (a stopped pipeline, a killed process) and run again: no row is submitted
/// twice, a row whose submit may have reached Segmind is reported instead of re-sent, and every other output is saved.
/// </summary>
public sealed class CrashResumeTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly EmulatorFixture _emulator;

    public CrashResumeTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    public enum StopPoint
    {
        AfterTheFirstJobArrives,
        WhileWaiting,
        WhileSaving,
    }

    private static string[] JournalKinds(string journalPath) =>
        File.Exists(journalPath)
            ? ReadShared(journalPath).Split('\n').Where(l => l.StartsWith('{') && l.EndsWith('}')).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()!).ToArray()
            : Array.Empty<string>();

    /// <summary>The journal as another process may be appending to it.</summary>
    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Rows whose last submit record leaves the outcome unknown: an unanswered submitting, or an unknown.</summary>
    private static HashSet<string> UnknownRows(string journalPath)
    {
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in ReadShared(journalPath).Split('\n').Where(l => l.StartsWith('{') && l.EndsWith('}')))
        {
            var record = JsonDocument.Parse(line).RootElement;
            var kind = record.GetProperty("kind").GetString()!;
            if (record.TryGetProperty("row", out var row) && kind is "submitting" or "submitted" or "not-submitted" or "unknown" or "released")
            {
                last[row.GetString()!] = kind;
            }
        }

        return last.Where(p => p.Value is "submitting" or "unknown").Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
    }

    private static void WaitUntil(Func<bool> condition, string what, Func<bool>? givesUp = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (givesUp?.Invoke() == true)
            {
                return;
            }

            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException("Gave up waiting until " + what + ".");
            }

            Thread.Sleep(10);
        }
    }

    /// <summary>The re-run every scenario ends with: the same rows, the same journal, the same command.</summary>
    private ScriptResult RunBatch(PowerShellSession session, IEnumerable<BatchRow> rows, string journal, string videos) =>
        session.Run($"$args[0] | Invoke-WanAnimate -JournalPath $args[1] -OutputDirectory $args[2] {FastPoll}", BatchRow.AsCsvRows(rows), journal, videos);

    private void AssertEveryRowAcceptedOnceAndSaved(List<BatchRow> rows, ScriptResult rerun, string videos)
    {
        Assert.True(rerun.Errors.Count == 0 && rerun.Terminating == null, rerun.Describe());
        foreach (var row in rows)
        {
            Assert.True(_emulator.Server.Counters.AcceptedJobsFor(row.Fingerprint) == 1, $"{row.Id} was accepted {_emulator.Server.Counters.AcceptedJobsFor(row.Fingerprint)} times.");
        }

        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        var results = rerun.Objects("WanAnimateResult");
        Assert.Equal(rows.Select(r => r.Id).OrderBy(i => i), results.Select(r => r.Get<string>("RowId")).OrderBy(i => i));
        Assert.All(results, r => Assert.True(Mp4.StartsWithFtypBox(r.Get<string>("OutputFile")!), r.Get<string>("OutputFile")));
        Assert.Equal(rows.Count, Directory.GetFiles(videos, "*.mp4").Length);
    }

    [Theory]
    [InlineData(StopPoint.AfterTheFirstJobArrives)]
    [InlineData(StopPoint.WhileWaiting)]
    [InlineData(StopPoint.WhileSaving)]
    public void A_stopped_pipeline_resumes_without_submitting_any_row_twice(StopPoint point)
    {
        // Slow answers keep submits on the wire (and downloads running) when the stop comes.
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 0.5;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.2;
        _emulator.Server.Options.Faults.Output.SlowResponseProbability = 1;
        _emulator.Server.Options.Faults.Output.SlowResponseSeconds = 0.3;
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        using var signal = new ManualResetEventSlim();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");
        var rows = BatchRow.Make("stop-" + point, 8);
        session.SetVariable("signal", signal);

        var script = point switch
        {
            StopPoint.AfterTheFirstJobArrives => "$args[0] | New-WanAnimateJob -JournalPath $args[1] -ThrottleLimit 2 | ForEach-Object { $signal.Set() }",
            StopPoint.WhileWaiting => $"$args[0] | New-WanAnimateJob -JournalPath $args[1] | Wait-WanAnimateJob -JournalPath $args[1] {FastPoll} | ForEach-Object {{ $signal.Set() }}",
            _ => $"$args[0] | Invoke-WanAnimate -JournalPath $args[1] -OutputDirectory $args[2] {FastPoll}",
        };
        using (var shell = session.CreateShell(script, BatchRow.AsCsvRows(rows), journal, videos))
        {
            var running = shell.BeginInvoke();
            if (point == StopPoint.WhileSaving)
            {
                WaitUntil(() => JournalKinds(journal).Contains("completed"), "a job completed", () => running.IsCompleted);
            }
            else
            {
                WaitUntil(() => signal.IsSet, "the first object arrived", () => running.IsCompleted);
            }

            shell.Stop();
            Assert.False(shell.HadErrors && shell.Streams.Error.Any(e => !e.FullyQualifiedErrorId.Contains("Stopped", StringComparison.Ordinal)), string.Join("\n", shell.Streams.Error));
        }

        // The stop happened mid-batch, and it left no row in doubt.
        Assert.InRange(JournalKinds(journal).Count(k => k == "saved"), 0, rows.Count - 1);
        Assert.Empty(UnknownRows(journal));
        Assert.True(_emulator.Server.Counters.AcceptedSubmits <= rows.Count);

        _emulator.Server.Options.Faults.Clear();
        var rerun = RunBatch(session, rows, journal, videos);

        AssertEveryRowAcceptedOnceAndSaved(rows, rerun, videos);
    }

    [Fact]
    public void A_killed_process_resumes_from_its_journal_without_submitting_any_row_twice()
    {
        // Jobs run 4 seconds, so the kill lands while every row is submitted and none has finished.
        _emulator.Server.Options.ProcessingSeconds = 400;
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");
        var rows = BatchRow.Make("killed", 6);

        using (var child = TestHostProcess.Start(directory, _emulator.Server.BaseUri, rows.Select(r => (r.Id, r.InputVideo, BatchRow.ReferenceImage, r.Prompt)), journal, videos, throttleLimit: 4))
        {
            WaitUntil(() => JournalKinds(journal).Count(k => k == "submitted") == rows.Count, "every row was journaled as submitted", () => child.HasExited);
            child.Kill();
        }

        Assert.Equal(rows.Count, JournalKinds(journal).Count(k => k == "submitted"));
        Assert.Equal(0, JournalKinds(journal).Count(k => k == "saved"));
        using var session = _emulator.OpenSession();
        var rerun = RunBatch(session, rows, journal, videos);

        AssertEveryRowAcceptedOnceAndSaved(rows, rerun, videos);
    }

    [Fact]
    public void A_process_killed_among_lost_submit_answers_reports_those_rows_and_never_sends_them_again()
    {
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");
        var rows = BatchRow.Make("lost", 8);

        // Submits are accepted and charged, but their answers are lost, until the journal shows the first such row.
        var submitFaults = _emulator.Server.Options.Faults.Submit;
        submitFaults.DropConnectionProbability = 1;
        submitFaults.DropAfterAcceptProbability = 1;
        submitFaults.SlowResponseProbability = 1;
        submitFaults.SlowResponseSeconds = 0.05;
        using (var child = TestHostProcess.Start(directory, _emulator.Server.BaseUri, rows.Select(r => (r.Id, r.InputVideo, BatchRow.ReferenceImage, r.Prompt)), journal, videos, throttleLimit: 1))
        {
            WaitUntil(() => JournalKinds(journal).Contains("unknown"), "a submit's answer was lost", () => child.HasExited);
            submitFaults.DropConnectionProbability = 0;
            WaitUntil(() => JournalKinds(journal).Count(k => k == "submitted") >= 2, "two rows were submitted", () => child.HasExited);
            child.Kill();
        }

        var unknown = UnknownRows(journal);
        Assert.NotEmpty(unknown);
        var acceptedBefore = rows.ToDictionary(r => r.Id, r => _emulator.Server.Counters.AcceptedJobsFor(r.Fingerprint));
        _emulator.Server.Options.Faults.Clear();
        using var session = _emulator.OpenSession();

        var rerun = RunBatch(session, rows, journal, videos);

        Assert.Null(rerun.Terminating);
        var reported = rerun.Errors.Where(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)).ToList();
        Assert.True(reported.Count == unknown.Count && rerun.Errors.Count == unknown.Count, rerun.Describe());
        Assert.All(reported, e => Assert.Contains(unknown, id => e.ErrorDetails.Message.Contains("(" + id + ")", StringComparison.Ordinal)));
        foreach (var row in rows)
        {
            var accepted = _emulator.Server.Counters.AcceptedJobsFor(row.Fingerprint);
            if (unknown.Contains(row.Id))
            {
                // Reported, never re-sent: whatever the server had accepted before the kill is all there is.
                Assert.True(accepted == acceptedBefore[row.Id] && accepted <= 1, $"{row.Id}, whose outcome was unknown, was accepted {accepted} times.");
            }
            else
            {
                Assert.True(accepted == 1, $"{row.Id} was accepted {accepted} times.");
            }
        }

        // The rows whose answer was lost had been accepted (and charged) by the server.
        Assert.Contains(unknown, id => acceptedBefore[id] == 1);
        var results = rerun.Objects("WanAnimateResult");
        Assert.Equal(rows.Where(r => !unknown.Contains(r.Id)).Select(r => r.Id).OrderBy(i => i), results.Select(r => r.Get<string>("RowId")).OrderBy(i => i));
        Assert.All(results, r => Assert.True(Mp4.StartsWithFtypBox(r.Get<string>("OutputFile")!)));
    }
}

using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// A journaled batch in a child process killed outright (SIGKILL) at each stage of a submit, then run again: no row is
/// submitted twice, and only a submit that was on the wire without an answer is "unknown". Two processes on one
/// journal, at once or one starting mid-way, submit each row exactly once.
/// </summary>
public sealed class SubmitStageKillTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly EmulatorFixture _emulator;

    public SubmitStageKillTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    public enum Stage
    {
        WaitingInTheGate,
        DuringAnUpload,
        OnTheWire,
        AfterTheAnswer,
    }

    private static List<(string Kind, string? Row)> Records(string journalPath)
    {
        if (!File.Exists(journalPath))
        {
            return new();
        }

        using var stream = new FileStream(journalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Where(l => l.StartsWith('{') && l.EndsWith('}')).Select(l =>
        {
            var record = JsonDocument.Parse(l).RootElement;
            return (record.GetProperty("kind").GetString()!, record.TryGetProperty("row", out var row) ? row.GetString() : null);
        }).ToList();
    }

    private static int Count(string journalPath, string kind) => Records(journalPath).Count(r => r.Kind == kind);

    /// <summary>Rows whose last submit record leaves the outcome unknown: an unanswered "submitting", or an "unknown".</summary>
    private static HashSet<string> UnknownRows(string journalPath)
    {
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (kind, row) in Records(journalPath))
        {
            if (row != null && kind is "claimed" or "submitting" or "submitted" or "not-submitted" or "unknown" or "released")
            {
                last[row] = kind;
            }
        }

        return last.Where(p => p.Value is "submitting" or "unknown").Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
    }

    private static void WaitUntil(Func<bool> condition, string what, TestHostProcess? child = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (child?.HasExited == true)
            {
                throw new InvalidOperationException("The child process ended before " + what + ":\n" + string.Join("\n", child.Lines));
            }

            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException("Gave up waiting until " + what + ".");
            }

            Thread.Sleep(10);
        }
    }

    [Theory]
    [InlineData(Stage.WaitingInTheGate)]
    [InlineData(Stage.DuringAnUpload)]
    [InlineData(Stage.OnTheWire)]
    [InlineData(Stage.AfterTheAnswer)]
    public void A_process_killed_at_any_stage_of_a_submit_resumes_with_no_duplicate_and_only_unanswered_sends_unknown(Stage stage)
    {
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        var videos = directory.File("videos");
        var sample = directory.File("sample.mp4");
        File.WriteAllBytes(sample, Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray());
        var rows = BatchRow.Make("kill-" + stage, 6, stage == Stage.DuringAnUpload ? _ => sample : null);
        var faults = _emulator.Server.Options.Faults;
        var throttle = 2;
        var rate = 0;
        switch (stage)
        {
            case Stage.WaitingInTheGate:
                // Two requests a minute: the first submit goes at once, every other row waits in the pacing gate.
                rate = 2;
                break;
            case Stage.DuringAnUpload:
                faults.Upload.SlowResponseProbability = 1;
                faults.Upload.SlowResponseSeconds = 30;
                break;
            case Stage.OnTheWire:
                faults.Submit.SlowResponseProbability = 1;
                faults.Submit.SlowResponseSeconds = 30;
                break;
            case Stage.AfterTheAnswer:
                _emulator.Server.Options.ProcessingSeconds = 400;
                break;
        }

        using (var child = TestHostProcess.Start(directory, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), journal, videos, throttle, rate))
        {
            switch (stage)
            {
                case Stage.WaitingInTheGate:
                    // Nothing on the wire at the kill: every "submitting" has its answer.
                    WaitUntil(() => Count(journal, "submitted") >= 1 && Count(journal, "submitting") == Count(journal, "submitted"), "the first row was submitted", child);
                    break;
                case Stage.DuringAnUpload:
                    WaitUntil(() => _emulator.Server.Counters.Requests(EndpointGroup.Upload) >= throttle, "uploads were under way", child);
                    break;
                case Stage.OnTheWire:
                    WaitUntil(() => Count(journal, "submitting") >= throttle && _emulator.Server.Counters.Requests(EndpointGroup.Submit) >= throttle, "submits were on the wire", child);
                    break;
                case Stage.AfterTheAnswer:
                    WaitUntil(() => Count(journal, "submitted") == rows.Count, "every row was submitted", child);
                    break;
            }

            child.Kill();
        }

        var unknown = UnknownRows(journal);
        if (stage == Stage.OnTheWire)
        {
            Assert.Equal(throttle, unknown.Count);
        }
        else
        {
            Assert.Empty(unknown);
        }

        // Rows that were never sent carry nothing but a claim of a process that is gone.
        var neverSent = stage switch
        {
            Stage.WaitingInTheGate => rows.Count - Count(journal, "submitted"),
            Stage.DuringAnUpload => rows.Count,
            Stage.OnTheWire => rows.Count - throttle,
            _ => 0,
        };
        Assert.Equal(neverSent, rows.Count(r => !Records(journal).Any(x => x.Row == r.Id && x.Kind != "claimed")));
        var acceptedBefore = _emulator.Server.Counters.AcceptedSubmits;
        faults.Clear();
        using var session = _emulator.OpenSession();

        var rerun = session.Run($"$args[0] | Invoke-WanAnimate -JournalPath $args[1] -OutputDirectory $args[2] {FastPoll}", BatchRow.AsCsvRows(rows), journal, videos);

        Assert.Null(rerun.Terminating);
        var reported = rerun.Errors.Where(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)).ToList();
        Assert.True(reported.Count == unknown.Count && rerun.Errors.Count == unknown.Count, rerun.Describe());
        var results = rerun.Objects("WanAnimateResult");
        Assert.Equal(rows.Where(r => !unknown.Contains(r.Id)).Select(r => r.Id).OrderBy(i => i), results.Select(r => r.Get<string>("RowId")).OrderBy(i => i));
        Assert.All(results, r => Assert.True(Mp4.StartsWithFtypBox(r.Get<string>("OutputFile")!)));

        // No duplicates: every row that completed was accepted once; an unknown row was never sent again.
        if (stage == Stage.DuringAnUpload)
        {
            // Uploaded inputs get new addresses on every upload, so count submits per row in the journal instead.
            Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
            Assert.All(rows, r => Assert.Equal(1, Records(journal).Count(x => x.Row == r.Id && x.Kind == "submitted")));
        }
        else
        {
            foreach (var row in rows)
            {
                var accepted = _emulator.Server.Counters.AcceptedJobsFor(row.Fingerprint);
                Assert.True(unknown.Contains(row.Id) ? accepted <= 1 : accepted == 1, $"{row.Id} was accepted {accepted} times.");
            }
        }

        Assert.True(_emulator.Server.Counters.AcceptedSubmits >= acceptedBefore);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_processes_on_one_journal_submit_each_row_exactly_once(bool secondStartsMidway)
    {
        using var shared = new TemporaryDirectory();
        using var firstFolder = new TemporaryDirectory();
        using var secondFolder = new TemporaryDirectory();
        var journal = shared.File("batch.journal");

        // Both runs save into one folder: a row the other run submitted is followed and saved by both, often at the
        // same moment, and each must find the other's file complete and verified, never "already exists".
        var videos = shared.File("videos");
        var rows = BatchRow.Make("twice-" + (secondStartsMidway ? "staggered" : "together"), 60);

        // Slow answers spread the batch over time, so the two runs overlap whichever starts first.
        _emulator.Server.Options.Faults.Submit.SlowResponseProbability = 0.3;
        _emulator.Server.Options.Faults.Submit.SlowResponseSeconds = 0.1;
        using var first = TestHostProcess.Start(firstFolder, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), journal, videos, throttleLimit: 4);
        if (secondStartsMidway)
        {
            WaitUntil(() => Count(journal, "submitted") >= 20, "the first run was a third of the way through", first);
        }

        using var second = TestHostProcess.Start(secondFolder, _emulator.Server.BaseUri, rows.Select(r => r.ForHost), journal, videos, throttleLimit: 4);
        WaitUntil(() => first.HasExited && second.HasExited, "both runs ended");

        foreach (var row in rows)
        {
            var accepted = _emulator.Server.Counters.AcceptedJobsFor(row.Fingerprint);
            Assert.True(accepted == 1, $"{row.Id} was accepted {accepted} times.");
        }

        Assert.Equal(rows.Count, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Empty(UnknownRows(journal));
        var lines = first.Lines.Concat(second.Lines).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("TERMINATING", StringComparison.Ordinal));

        // Every error is a row left to the other run; every row's video was saved by one run or both.
        Assert.All(lines.Where(l => l.StartsWith("ERROR", StringComparison.Ordinal)), l => Assert.Contains("WanAnimate.RowClaimed", l));
        Assert.Equal(rows.Count, Directory.GetFiles(videos, "*.mp4").Length);
        Assert.Empty(Directory.GetFiles(videos, "*.partial"));
    }
}

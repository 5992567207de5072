using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;
using static Segmind.Client.Tests.TestSupport.JournalSamples;

namespace Segmind.Client.Tests;

public sealed class JournalTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string NewPath(string name = "batch.jsonl") => _folder.File(name);

    [Fact]
    public void EveryRecordRoundTripsThroughTheFile()
    {
        var path = NewPath();
        using (var journal = BatchJournal.Open(path))
        {
            journal.RecordSubmitting("done", Request("one"));
            journal.RecordSubmitted("done", Submitted("req-done"));
            journal.RecordOutcome("done", Completed("req-done"));
            journal.RecordSaved(null, "req-done", Path.Combine("out", "done.mp4"), 123456);

            journal.RecordSubmitting("refused", Request("two"));
            journal.RecordNotSubmitted("refused", "InsufficientCredits", "Not enough credits.");

            journal.RecordSubmitting("lost", Request("three"));
            journal.RecordUnknown("lost", "The connection was reset after sending.");

            journal.RecordSubmitting("killed", Request("four"));

            journal.RecordSubmitting("failed", Request("five"));
            journal.RecordSubmitted("failed", Submitted("req-failed"));
            journal.RecordFailed(null, "req-failed", "Content blocked.", new Dictionary<string, object?> { ["cost"] = 0.0 });

            journal.RecordSubmitting("waiting", Request("six"));
            journal.RecordSubmitted("waiting", Submitted("req-waiting"));
        }

        var lines = File.ReadAllLines(path);
        Assert.Equal(14, lines.Length);
        Assert.EndsWith("\n", File.ReadAllText(path));
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(BatchJournal.FormatVersion, document.RootElement.GetProperty("v").GetInt32());
            Assert.True(document.RootElement.TryGetProperty("at", out _));
        }

        using var reopened = BatchJournal.Open(path);
        var state = reopened.ReadState();
        Assert.Equal(14, state.RecordCount);
        Assert.Equal(0, state.SkippedLineCount);
        Assert.Equal(6, state.Rows.Count);

        var done = state.Find("done")!;
        Assert.Equal(JournalRowPhase.Saved, done.Phase);
        Assert.Equal("req-done", done.RequestId);
        Assert.Equal(new Uri("https://api.example.test/v2/requests/req-done/status"), done.StatusUrl);
        Assert.Equal(new Uri("https://api.example.test/v2/requests/req-done"), done.ResponseUrl);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero), done.SubmittedAt);
        Assert.Equal("https://cdn.example.test/out/req-done.mp4", done.Output);
        Assert.Equal(401.5, done.Metrics!["inference_time"]);
        Assert.Equal("A100", done.Metrics!["gpu"]);
        Assert.Equal(new List<object?> { 1L, "two" }, done.Metrics!["stages"]);
        Assert.Equal(Path.Combine("out", "done.mp4"), done.SavedPath);
        Assert.Equal(123456, done.SavedLength);
        Assert.Equal(BatchJournal.InputFingerprint(Request("one")), done.InputFingerprint);
        Assert.Same(done, state.FindByRequestId("req-done"));

        Assert.Equal(JournalRowPhase.NotSubmitted, state.Find("refused")!.Phase);
        Assert.True(state.Find("refused")!.MaySubmit);
        Assert.Equal("Not enough credits.", state.Find("refused")!.Error);

        var lost = state.Find("lost")!;
        Assert.Equal(JournalRowPhase.Unknown, lost.Phase);
        Assert.False(lost.SubmitInterrupted);
        Assert.Contains("connection was reset", lost.ResolutionHint);

        var failed = state.Find("failed")!;
        Assert.Equal(JournalRowPhase.Failed, failed.Phase);
        Assert.Equal("Content blocked.", failed.Error);
        Assert.False(failed.MaySubmit);

        var waiting = state.Find("waiting")!;
        Assert.True(waiting.IsPending);
        var reference = waiting.ToJobReference()!;
        Assert.Equal("req-waiting", reference.RequestId);
        Assert.Equal(waiting.StatusUrl, reference.StatusUrl);
        Assert.Single(state.PendingRows);

        Assert.True(state.BlocksSubmit("done"));
        Assert.True(state.BlocksSubmit("lost"));
        Assert.False(state.BlocksSubmit("refused"));
        Assert.False(state.BlocksSubmit("never-seen"));
    }

    [Fact]
    public void ASubmitWithNoAnswerReadsAsUnknownAndIsResolvedByAppending()
    {
        var path = NewPath();
        using (var crashed = BatchJournal.Open(path))
        {
            crashed.RecordSubmitting("row-7", Request());
        }

        using var journal = BatchJournal.Open(path);
        var row = journal.ReadState().Find("row-7")!;
        Assert.Equal(JournalRowPhase.Unknown, row.Phase);
        Assert.True(row.SubmitInterrupted);
        Assert.False(row.MaySubmit);
        Assert.Contains("row-7", row.ResolutionHint);
        Assert.Contains("stopped while its submit", row.ResolutionHint);
        Assert.Single(journal.ReadState().UnknownRows);

        // Resolution one: the job was found in the account's history.
        journal.RecordAttached("row-7", new JobReference("req-found"));
        var attached = journal.Find("row-7")!;
        Assert.Equal(JournalRowPhase.Submitted, attached.Phase);
        Assert.Equal("req-found", attached.RequestId);
        Assert.Null(attached.ResolutionHint);

        // Resolution two, for another row: no job exists, submit again.
        journal.RecordSubmitting("row-8", Request("other"));
        journal.RecordReleased("row-8", "Not in the account history.");
        var released = journal.Find("row-8")!;
        Assert.Equal(JournalRowPhase.Released, released.Phase);
        Assert.True(released.MaySubmit);
        Assert.Empty(journal.ReadState().UnknownRows);
    }

    [Fact]
    public void ATornLastLineIsIgnoredAndTheNextAppendStartsOnANewLine()
    {
        var path = NewPath();
        using (var journal = BatchJournal.Open(path))
        {
            journal.RecordSubmitting("a", Request());
            journal.RecordSubmitted("a", Submitted("req-a"));
        }

        // A crash in the middle of a write leaves half a record and no newline.
        File.AppendAllText(path, "{\"v\":1,\"kind\":\"submitted\",\"row\":\"b\",\"requ", new UTF8Encoding(false));

        using (var journal = BatchJournal.Open(path))
        {
            var state = journal.ReadState();
            Assert.Equal(2, state.RecordCount);
            Assert.Null(state.Find("b"));
            Assert.Equal(JournalRowPhase.Submitted, state.Find("a")!.Phase);

            journal.RecordSubmitting("c", Request("c"));
            journal.RecordSubmitted("c", Submitted("req-c"));

            var after = journal.ReadState();
            Assert.Equal(JournalRowPhase.Submitted, after.Find("c")!.Phase);
            Assert.Equal(1, after.SkippedLineCount);
        }

        var lines = File.ReadAllLines(path);
        Assert.Equal(5, lines.Length);
        Assert.EndsWith("\"requ", lines[2]);
        Assert.Equal("submitting", JsonDocument.Parse(lines[3]).RootElement.GetProperty("kind").GetString());
    }

    [Fact]
    public void ReadingToleratesUnknownKindsFieldsAndHandEdits()
    {
        var path = NewPath();
        var lines = new[]
        {
            "{\"v\":9,\"kind\":\"a-future-kind\",\"row\":\"x\",\"whatever\":[1,2,3]}",
            "\uFEFF{\"v\":1,\"kind\":\"submitted\",\"row\":\"x\",\"request_id\":\"req-x\",\"status_url\":\"https://api.example.test/s\",\"shiny_new_field\":{\"a\":1}}\r",
            "",
            "not json at all",
            "[1,2]",
            "{\"v\":1,\"kind\":\"completed\",\"request_id\":\"req-x\",\"output\":\"https://cdn.example.test/x.mp4\"}",
        };
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));

        using var journal = BatchJournal.Open(path);
        var state = journal.ReadState();
        var row = state.Find("x")!;
        Assert.Equal(JournalRowPhase.Completed, row.Phase);
        Assert.Equal("https://cdn.example.test/x.mp4", row.Output);
        Assert.Equal(new Uri("https://api.example.test/s"), row.StatusUrl);
        Assert.Equal(2, state.RecordCount);
        Assert.Equal(3, state.SkippedLineCount);
    }

    [Fact]
    public void ReadsAreIncrementalAndSeeOtherWritersAppends()
    {
        var path = NewPath();
        using var reader = BatchJournal.Open(path);
        using var writer = BatchJournal.Open(path);
        Assert.Empty(reader.ReadState().Rows);

        writer.RecordSubmitting("r1", Request());
        writer.RecordSubmitted("r1", Submitted("req-1"));
        var first = reader.ReadState();
        Assert.Equal(JournalRowPhase.Submitted, first.Find("r1")!.Phase);

        writer.RecordOutcome("r1", Completed("req-1"));
        var second = reader.ReadState();
        Assert.Equal(JournalRowPhase.Completed, second.Find("r1")!.Phase);

        // Snapshots do not move.
        Assert.Equal(JournalRowPhase.Submitted, first.Find("r1")!.Phase);
        Assert.Equal(3, second.RecordCount);
    }

    [Fact]
    public void FindSeesADuplicateRowSubmittedEarlierInTheSameRun()
    {
        using var journal = BatchJournal.Open(NewPath());
        var first = Request();
        var duplicate = Request();
        var rowId = BatchJournal.RowIdentity(first, null);
        Assert.Null(journal.Find(rowId));

        journal.RecordSubmitting(rowId, first);
        journal.RecordSubmitted(rowId, Submitted("req-first"));

        var seen = journal.Find(BatchJournal.RowIdentity(duplicate, null))!;
        Assert.False(seen.MaySubmit);
        Assert.Equal("req-first", seen.RequestId);
        Assert.Same(seen, journal.FindByRequestId("req-first"));
        Assert.Null(journal.FindByRequestId("req-unknown"));
    }

    [Fact]
    public void AnOutcomeOfAnOlderJobDoesNotOverwriteTheRowsNewerJob()
    {
        var path = NewPath();
        using var journal = BatchJournal.Open(path);
        journal.RecordSubmitting("row", Request());
        journal.RecordSubmitted("row", Submitted("req-old"));
        journal.RecordReleased("row", "Run it again.");
        journal.RecordSubmitting("row", Request());
        journal.RecordSubmitted("row", Submitted("req-new"));
        journal.RecordFailed(null, "req-old", "late news about the old job", null);

        var row = journal.ReadState().Find("row")!;
        Assert.Equal(JournalRowPhase.Submitted, row.Phase);
        Assert.Equal("req-new", row.RequestId);
    }

    [Fact]
    public void OutcomesOfJobsWithoutARowAreFoundByRequestId()
    {
        using var journal = BatchJournal.Open(NewPath());
        journal.RecordOutcome(null, Completed("req-lonely"));
        journal.RecordSaved(null, "req-lonely", "lonely.mp4", 10);
        var state = journal.ReadState();
        Assert.Empty(state.Rows);
        var row = state.FindByRequestId("req-lonely")!;
        Assert.Equal(JournalRowPhase.Saved, row.Phase);
        Assert.Equal("https://cdn.example.test/out/req-lonely.mp4", row.Output);
    }

    [Fact]
    public void Base64OutputsAreNotCopiedIntoTheJournal()
    {
        var path = NewPath();
        var base64 = Convert.ToBase64String(new byte[3000]);
        using (var journal = BatchJournal.Open(path))
        {
            journal.RecordOutcome("b64", new JobResult("req-b64", JobState.Completed, null, new Dictionary<string, object?>(), base64, DateTimeOffset.UtcNow));
        }

        var text = File.ReadAllText(path);
        Assert.DoesNotContain(base64, text);
        Assert.Contains("\"output_length\":" + base64.Length, text);
        Assert.Contains("\"output_kind\":\"base64\"", text);
    }

    [Fact]
    public void TwoThreadsSharingOneJournalWriteTwoThousandIntactLines()
    {
        var path = NewPath();
        using var journal = BatchJournal.Open(path);
        // Dedicated threads, not pool threads: blocking writers must not starve the pool other tests run on.
        var threads = Enumerable.Range(0, 2).Select(writer => new Thread(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                journal.RecordNotSubmitted("w" + writer + "-" + i, "Test", new string('x', 200 + (i % 50)));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));

        AssertIntactLines(path, 2000);
    }

    [Fact]
    public async Task AJournalLockHeldTooLongIsGivenUpOnTheJournalsClock()
    {
        var path = NewPath();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        using var journal = BatchJournal.Open(path);
        journal.TimeProvider = time;

        // Another writer holds the lock and never lets go.
        using var held = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var writing = Task.Run(() => journal.RecordNotSubmitted("locked-row", "Test", "never written"));

        // The 30 s bound passes on the journal's clock, in no real time (a real-clock wait would take 30 real seconds).
        for (var i = 0; i < 100 && !writing.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        var error = await Assert.ThrowsAsync<IOException>(() => writing.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("held by another writer", error.Message);
        Assert.True(time.GetUtcNow() - time.Start >= TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void TwoJournalsOnOneFileLikeTwoProcessesWriteTwoThousandIntactLines()
    {
        var path = NewPath();
        using var first = BatchJournal.Open(path, shareProcessLock: false);
        using var second = BatchJournal.Open(path, shareProcessLock: false);
        var writers = new[] { first, second };
        var threads = writers.Select((journal, w) => new Thread(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                journal.RecordNotSubmitted("p" + w + "-" + i, "Test", "prompt with ünïcödé ✓ " + new string('y', i % 300));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));

        AssertIntactLines(path, 2000);
        Assert.Equal(2000, BatchJournal.Open(path).ReadState().Rows.Count);
    }

    [Fact]
    public void WritesFromAStreamThatDoesNotSeeTheOthersEndAreNotLost()
    {
        // A stand-in for a second process whose idea of the end of file is stale: the append must find the real end.
        var path = NewPath();
        using var journal = BatchJournal.Open(path);
        using (var other = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            journal.RecordNotSubmitted("mine-1", null, null);
            var foreign = Encoding.UTF8.GetBytes("{\"v\":1,\"kind\":\"not-submitted\",\"row\":\"theirs\"}\n");
            other.Seek(0, SeekOrigin.End);
            other.Write(foreign);
            other.Flush(true);
            journal.RecordNotSubmitted("mine-2", null, null);
        }

        var state = journal.ReadState();
        Assert.NotNull(state.Find("mine-1"));
        Assert.NotNull(state.Find("theirs"));
        Assert.NotNull(state.Find("mine-2"));
        Assert.Equal(3, File.ReadAllLines(path).Length);
    }

    [Fact]
    public void RowIdentityIsAStableHashOfNormalisedInputsUnlessAnIdIsGiven()
    {
        var request = Request();
        var id = BatchJournal.RowIdentity(request, null);
        Assert.Matches("^auto-[0-9a-f]{32}$", id);

        // The canonical form is documented; this pins it so identities survive upgrades.
        const string canonical = "{\"input_video\":\"https://cdn.example.test/motion.mp4\",\"reference_image\":\"https://cdn.example.test/hero.png\",\"prompt\":\"a dancer\",\"mode\":\"animation\",\"resolution\":\"720p\",\"seed\":42,\"base64\":false}";
        var expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).ToLowerInvariant();
        Assert.Equal(expected, BatchJournal.InputFingerprint(request));
        Assert.Equal("auto-" + expected[..32], id);

        var sloppy = Request("  a dancer \r\n");
        sloppy.Mode = " Animation ";
        sloppy.Resolution = "720P";
        sloppy.InputVideo = " https://cdn.example.test/motion.mp4 ";
        Assert.Equal(id, BatchJournal.RowIdentity(sloppy, "   "));

        Assert.NotEqual(id, BatchJournal.RowIdentity(Request(seed: 43), null));
        Assert.NotEqual(id, BatchJournal.RowIdentity(Request("a dancer!"), null));
        var asBase64 = Request();
        asBase64.Base64 = true;
        Assert.NotEqual(id, BatchJournal.RowIdentity(asBase64, null));

        Assert.Equal("clip-7", BatchJournal.RowIdentity(request, " clip-7 "));
        Assert.NotEqual(BatchJournal.RowIdentity(request, "clip-7"), BatchJournal.RowIdentity(request, "clip-8"));
    }

    [Fact]
    public void TheApiKeyAndUrlCredentialsAreNeverWritten()
    {
        var secret = "sk-" + Guid.NewGuid().ToString("N");
        var key = new ApiKey(secret);
        var path = NewPath();
        var request = Request();
        request.InputVideo = "https://user:" + secret + "@cdn.example.test/motion.mp4?X-Amz-Signature=" + secret + "&token=" + secret;
        request.ReferenceImage = "https://cdn.example.test/hero.png?key=" + secret;
        var failure = new SegmindAuthenticationException("The API key " + key + " was refused.");

        using (var journal = BatchJournal.Open(path))
        {
            journal.RecordSubmitting("row", request);
            journal.RecordNotSubmitted("row", failure.ErrorId, failure.Message);
            journal.RecordSubmitting("row", request);
            journal.RecordSubmitted("row", Submitted("req"));
            journal.RecordOutcome("row", Completed("req"));
            journal.RecordSaved("row", "req", "out.mp4", 1);
        }

        var text = File.ReadAllText(path);
        Assert.DoesNotContain(secret, text);
        Assert.Contains("https://cdn.example.test/motion.mp4?<redacted>", text);

        // The identity still tells signed URLs apart, although the file does not show their queries.
        var other = Request();
        other.InputVideo = "https://cdn.example.test/motion.mp4?X-Amz-Signature=different";
        Assert.NotEqual(BatchJournal.RowIdentity(request, null), BatchJournal.RowIdentity(other, null));

        // And the API offers no way to hand it a key or the client's options.
        var journalMembers = typeof(BatchJournal).GetMethods().SelectMany(m => m.GetParameters()).Select(p => p.ParameterType);
        Assert.DoesNotContain(typeof(ApiKey), journalMembers);
        Assert.DoesNotContain(typeof(SegmindClientOptions), journalMembers);
    }

    [Fact]
    public void TenThousandRowsAreReadInOnePass()
    {
        var path = NewPath();
        var builder = new StringBuilder();
        for (var i = 0; i < 10_000; i++)
        {
            builder.Append("{\"v\":1,\"kind\":\"submitting\",\"row\":\"r").Append(i).Append("\",\"fingerprint\":\"f\"}\n");
            builder.Append("{\"v\":1,\"kind\":\"submitted\",\"row\":\"r").Append(i).Append("\",\"request_id\":\"q").Append(i).Append("\"}\n");
            if (i % 2 == 0)
            {
                builder.Append("{\"v\":1,\"kind\":\"completed\",\"request_id\":\"q").Append(i).Append("\",\"output\":\"https://cdn.example.test/").Append(i).Append(".mp4\"}\n");
            }
        }

        File.WriteAllText(path, builder.ToString(), new UTF8Encoding(false));
        using var journal = BatchJournal.Open(path);
        var state = journal.ReadState();
        Assert.Equal(10_000, state.Rows.Count);
        Assert.Equal(25_000, state.RecordCount);
        Assert.Equal(5_000, state.PendingRows.Count);
        Assert.Equal(JournalRowPhase.Completed, state.Find("r9998")!.Phase);
        Assert.Equal("r9999", state.FindByRequestId("q9999")!.RowId);
    }

    [Fact]
    public void OpeningRefusesAMissingFolderAndNeverTruncates()
    {
        Assert.Throws<SegmindValidationException>(() => BatchJournal.Open(Path.Combine(_folder.Path, "missing", "batch.jsonl")));

        var path = NewPath();
        File.WriteAllText(path, "{\"v\":1,\"kind\":\"not-submitted\",\"row\":\"kept\"}\n");
        using (BatchJournal.Open(path))
        {
        }

        using var journal = BatchJournal.Open(path);
        Assert.NotNull(journal.ReadState().Find("kept"));
    }

    private static void AssertIntactLines(string path, int expected)
    {
        var lines = File.ReadAllLines(path);
        Assert.Equal(expected, lines.Length);
        var rows = new HashSet<string>();
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.True(rows.Add(document.RootElement.GetProperty("row").GetString()!));
        }
    }
}

using System.Diagnostics;
using System.Text.Json;
using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>
/// The journaled submit operation's stages: a row is claimed, waits (gate, uploads), goes on the wire, is answered.
/// Only a lost answer after sending leaves it unknown; a stop or a 429 before that leaves it free to submit again.
/// </summary>
public sealed class JournaledSubmitterTests : IClassFixture<EmulatorFixture>, IDisposable
{
    private readonly EmulatorFixture _emulator;
    private readonly RecordingGate _gate = new();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "segmind-submitter-tests-" + Guid.NewGuid().ToString("N"));

    public JournaledSubmitterTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
        Directory.CreateDirectory(_folder);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private EmulatorServer Server => _emulator.Server;

    private string JournalPath => Path.Combine(_folder, "batch.journal");

    private SubmitLedger Ledger => new(Path.Combine(_folder, "ledger.jsonl"));

    private static SubmitRow Row(string id, string prompt = "a dancer in a red coat") => new(1, id, TestClientOptions.Request(prompt));

    private string[] Kinds(string rowId) => File.ReadAllLines(JournalPath)
        .Where(l => l.StartsWith('{'))
        .Select(l => JsonDocument.Parse(l).RootElement)
        .Where(r => r.TryGetProperty("row", out var row) && row.GetString() == rowId)
        .Select(r => r.GetProperty("kind").GetString()!)
        .ToArray();

    [Fact]
    public async Task A_stop_while_waiting_for_the_gate_sends_nothing_and_leaves_the_row_free()
    {
        using var client = _emulator.CreateClient(new BlockingGate());
        using var journal = BatchJournal.Open(JournalPath);
        using var submitter = new JournaledSubmitter(client, journal, Ledger, throttleLimit: 2);
        using var stop = new CancellationTokenSource();
        Assert.Equal(RowDecisionKind.Submit, submitter.Plan("gate-row", resubmitUnknown: false).Kind);

        var submitting = submitter.SubmitAsync(Row("gate-row"), stop.Token);
        await Task.Delay(50);
        stop.Cancel();
        var outcome = await submitting;

        Assert.Equal(SubmitOutcomeKind.Stopped, outcome.Kind);
        Assert.Equal(0, Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(new[] { "claimed", "not-submitted" }, Kinds("gate-row"));
        Assert.True(journal.Find("gate-row")!.MaySubmit);
        Assert.True(submitter.Settle(TimeSpan.Zero));
    }

    [Fact]
    public async Task A_429_is_not_sent_so_the_row_is_claimed_again_before_the_retry()
    {
        Server.Options.Faults.Submit.RateLimitFaultProbability = 1;
        _gate.OnEnter = (kind, count) =>
        {
            if (kind == RequestKind.Submit && count == 2)
            {
                Server.Options.Faults.Clear();
            }
        };
        using var client = _emulator.CreateClient(_gate);
        using var journal = BatchJournal.Open(JournalPath);
        using var submitter = new JournaledSubmitter(client, journal, Ledger, throttleLimit: 2);
        submitter.Plan("retry-row", resubmitUnknown: false);

        var outcome = await submitter.SubmitAsync(Row("retry-row"), CancellationToken.None);

        Assert.Equal(SubmitOutcomeKind.Submitted, outcome.Kind);
        Assert.Equal(new[] { "claimed", "submitting", "claimed", "submitting", "submitted" }, Kinds("retry-row"));
        Assert.Equal(1, Server.Counters.AcceptedSubmits);
        Assert.Contains(Ledger.ReadEntries(), e => e.RequestId == outcome.Job!.RequestId && e.RowId == "retry-row" && e.Status == LedgerStatus.Pending);
    }

    [Fact]
    public async Task A_lost_answer_after_sending_is_unknown_in_the_journal_and_the_ledger()
    {
        Server.Options.Faults.Submit.DropConnectionProbability = 1;
        Server.Options.Faults.Submit.DropAfterAcceptProbability = 1;
        using var client = _emulator.CreateClient(_gate);
        using var journal = BatchJournal.Open(JournalPath);
        using var submitter = new JournaledSubmitter(client, journal, Ledger, throttleLimit: 2);
        submitter.Plan("lost-row", resubmitUnknown: false);

        var outcome = await submitter.SubmitAsync(Row("lost-row"), CancellationToken.None);

        Assert.Equal(SubmitOutcomeKind.Unknown, outcome.Kind);
        Assert.IsType<SegmindSubmitOutcomeUnknownException>(outcome.Error);
        Assert.Equal(new[] { "claimed", "submitting", "unknown" }, Kinds("lost-row"));
        Assert.Contains(Ledger.ReadEntries(), e => e.Status == LedgerStatus.Unknown && e.RowId == "lost-row" && e.RequestId == null);
        Assert.Equal(RowDecisionKind.Unknown, submitter.Plan("lost-row", resubmitUnknown: false).Kind);
    }

    [Fact]
    public async Task A_stop_while_the_submit_is_on_the_wire_waits_for_the_answer_and_records_it()
    {
        Server.Options.Faults.Submit.SlowResponseProbability = 1;
        Server.Options.Faults.Submit.SlowResponseSeconds = 0.5;
        using var client = _emulator.CreateClient(_gate);
        using var journal = BatchJournal.Open(JournalPath);
        using var submitter = new JournaledSubmitter(client, journal, Ledger, throttleLimit: 2);
        using var stop = new CancellationTokenSource();
        submitter.Plan("wire-row", resubmitUnknown: false);

        var submitting = submitter.SubmitAsync(Row("wire-row"), stop.Token);
        var clock = Stopwatch.StartNew();
        while (Server.Counters.Requests(EndpointGroup.Submit) == 0 && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(5);
        }

        stop.Cancel();
        Assert.True(submitter.Settle(TimeSpan.FromSeconds(30)));
        var outcome = await submitting;

        Assert.Equal(SubmitOutcomeKind.Submitted, outcome.Kind);
        Assert.Equal(new[] { "claimed", "submitting", "submitted" }, Kinds("wire-row"));
        Assert.Single(submitter.Accepted);
    }

    [Fact]
    public void A_claim_by_a_live_owner_is_respected_and_one_left_by_an_ended_owner_is_taken_over()
    {
        using var client = _emulator.CreateClient(_gate);
        using var firstJournal = BatchJournal.Open(JournalPath, shareProcessLock: false);
        using var secondJournal = BatchJournal.Open(JournalPath, shareProcessLock: false);
        var first = new JournaledSubmitter(client, firstJournal, null, 1);
        using var second = new JournaledSubmitter(client, secondJournal, null, 1);

        Assert.Equal(RowDecisionKind.Submit, first.Plan("shared", resubmitUnknown: false).Kind);
        var held = second.Plan("shared", resubmitUnknown: false);
        Assert.Equal(RowDecisionKind.HeldElsewhere, held.Kind);
        Assert.Equal(Environment.ProcessId, held.Row!.Claim!.ProcessId);

        first.Dispose();

        Assert.Equal(RowDecisionKind.Submit, second.Plan("shared", resubmitUnknown: false).Kind);
        Assert.Equal(new[] { "claimed", "claimed" }, Kinds("shared"));
    }

    [Fact]
    public void A_claim_left_by_a_process_that_has_exited_or_whose_pid_was_reused_is_void()
    {
        using var ended = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        ended.WaitForExit();
        var endedStart = DateTimeOffset.UtcNow;
        using var journal = BatchJournal.Open(JournalPath);
        journal.RecordClaimed("dead-pid", new RowClaim("gone", ended.Id, endedStart, Environment.MachineName, null));
        journal.RecordClaimed("reused-pid", new RowClaim("gone", Environment.ProcessId, DateTimeOffset.UtcNow.AddDays(-3), Environment.MachineName, null));
        journal.RecordClaimed("other-machine", new RowClaim("far", 1, DateTimeOffset.UtcNow, "another-machine-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow));
        using var client = _emulator.CreateClient(_gate);
        using var submitter = new JournaledSubmitter(client, journal, null, 1);

        Assert.Equal(RowDecisionKind.Submit, submitter.Plan("dead-pid", resubmitUnknown: false).Kind);
        Assert.Equal(RowDecisionKind.Submit, submitter.Plan("reused-pid", resubmitUnknown: false).Kind);

        // A claim from another machine cannot be checked: respected (for a day).
        Assert.Equal(RowDecisionKind.HeldElsewhere, submitter.Plan("other-machine", resubmitUnknown: false).Kind);
    }

    [Fact]
    public void The_ledger_prunes_records_older_than_its_retention_and_keeps_concurrent_appends_whole()
    {
        var path = Path.Combine(_folder, "pruned-ledger.jsonl");
        var old = DateTimeOffset.UtcNow - SubmitLedger.Retention - TimeSpan.FromHours(1);
        File.WriteAllText(path, "{\"v\":1,\"kind\":\"accepted\",\"at\":\"" + old.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") + "\",\"request_id\":\"old-job\",\"row\":\"r0\"}\n");
        var job = new SubmittedJob("new-job", "QUEUED", new Uri("http://127.0.0.1/s"), new Uri("http://127.0.0.1/r"), null, DateTimeOffset.UtcNow);

        Parallel.For(0, 40, i => new SubmitLedger(path).RecordAccepted("row-" + i, i, TestClientOptions.Request(), new SubmittedJob("job-" + i, "QUEUED", job.StatusUrl, job.ResponseUrl, null, job.SubmittedAt), null));

        var entries = new SubmitLedger(path).ReadEntries();
        Assert.DoesNotContain(entries, e => e.RequestId == "old-job");
        Assert.Equal(Enumerable.Range(0, 40).Select(i => "job-" + i).OrderBy(i => i), entries.Select(e => e.RequestId!).OrderBy(i => i));
        Assert.DoesNotContain(TestKeys.Key.Reveal(), File.ReadAllText(path));
    }

    [Fact]
    public void An_expired_job_stops_being_pending_but_a_save_or_a_later_completion_wins()
    {
        var ledger = new SubmitLedger(Path.Combine(_folder, "expiry-ledger.jsonl"));
        foreach (var id in new[] { "open", "done", "saved", "back" })
        {
            ledger.RecordAccepted("row-" + id, 1, TestClientOptions.Request(), new SubmittedJob(id, "QUEUED", new Uri("http://127.0.0.1/s"), new Uri("http://127.0.0.1/r"), null, DateTimeOffset.UtcNow), null);
        }

        ledger.RecordOutcome("done", completed: true, error: null);
        ledger.RecordOutcome("saved", completed: true, error: null);
        ledger.RecordSaved("saved", "/videos/saved.mp4");
        foreach (var id in new[] { "open", "done", "saved", "back", "never-accepted" })
        {
            ledger.RecordExpired(id);
        }

        ledger.RecordOutcome("back", completed: true, error: null);

        var status = ledger.ReadEntries().ToDictionary(e => e.RequestId!, e => e.Status);
        Assert.Equal(LedgerStatus.Expired, status["open"]);
        Assert.Equal(LedgerStatus.Expired, status["done"]);
        Assert.Equal(LedgerStatus.Saved, status["saved"]);
        Assert.Equal(LedgerStatus.Completed, status["back"]);
        Assert.False(status.ContainsKey("never-accepted"));
    }

    [Fact]
    public async Task An_accepted_submit_whose_answer_cannot_be_used_is_unknown_and_the_ledger_keeps_the_id_it_showed()
    {
        await using var stub = StubServer.Answering(200, "{\"request_id\":\"salvaged-1\",\"status\":\"QUEUED\"}");
        using var client = new SegmindClient(TestClientOptions.For(stub.BaseUri, _gate));
        using var journal = BatchJournal.Open(JournalPath);
        using var submitter = new JournaledSubmitter(client, journal, Ledger, throttleLimit: 1);
        submitter.Plan("odd-row", resubmitUnknown: false);

        var outcome = await submitter.SubmitAsync(Row("odd-row"), CancellationToken.None);

        Assert.Equal(SubmitOutcomeKind.Unknown, outcome.Kind);
        Assert.Equal(new[] { "claimed", "submitting", "unknown" }, Kinds("odd-row"));
        Assert.Contains(Ledger.ReadEntries(), e => e.Status == LedgerStatus.Unknown && e.RowId == "odd-row" && e.RequestId == "salvaged-1");
        Assert.Single(stub.Requests, r => r.Method == "POST");
    }

    /// <summary>A gate whose submits wait until they are cancelled.</summary>
    private sealed class BlockingGate : IRequestGate
    {
        public async ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public void ReportRateLimited(TimeSpan? retryAfter)
        {
        }
    }
}

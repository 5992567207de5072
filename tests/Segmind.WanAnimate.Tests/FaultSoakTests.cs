using System.Management.Automation;
using System.Text.RegularExpressions;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// Hundreds of CSV-shaped rows through the module while the emulator misbehaves on every endpoint: 429s with
/// each kind of retry hint, 5xx on polls and results, dropped connections (some after the submit was accepted and
/// charged) and slow answers. Every row must end as a result or as a clear error about that row, no input may be
/// charged twice, and no accepted job may vanish without trace.
/// </summary>
public sealed class FaultSoakTests : IClassFixture<FaultSoakTests.SoakEmulator>
{
    private const int RowCount = 500;
    private const string FastPoll = "-PollInterval '00:00:00.05'";

    /// <summary>The ids a row may end with when it does not complete; anything else is a regression.</summary>
    private static readonly string[] ExpectedErrorIds = { "SubmitOutcomeUnknown", "ServerError", "RateLimited", "ProtocolError" };

    private readonly SoakEmulator _emulator;

    public FaultSoakTests(SoakEmulator emulator)
    {
        _emulator = emulator;
    }

    /// <summary>Many workers and a long retention, so that only the injected faults shape the run.</summary>
    public sealed class SoakEmulator : EmulatorFixture
    {
        protected override void Configure(EmulatorOptions options)
        {
            options.Workers = 128;
            options.RetentionSeconds = 1_000_000;
        }
    }

    [Fact]
    public void A_faulty_server_loses_no_row_charges_no_row_twice_and_loses_no_request_id()
    {
        // Each test uses its own key, so the process-wide request gate of one run (slowed by its 429s) does not
        // carry over to another.
        const string key = "soak-key-new-wait";
        _emulator.Reset(options =>
        {
            options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, key };
            options.Workers = 128;
            options.RetentionSeconds = 1_000_000;
            ConfigureFaults(options.Faults);
        });
        using var session = _emulator.OpenSession(key);

        var result = session.Run(
            RowsScript(RowCount) + $$"""

            $jobs = [System.Collections.Generic.List[object]]::new()
            $rows | New-WanAnimateJob -ThrottleLimit 16 | ForEach-Object { $jobs.Add($_); $_ } | Wait-WanAnimateJob {{FastPoll}} -Timeout '00:05:00'
            """);
        Assert.True(result.Terminating == null, result.Describe());
        var jobs = session.Run("$jobs").Output.Where(o => o != null && o.IsModuleType("WanAnimateJob")).ToList();
        foreach (var job in jobs)
        {
            Assert.Equal(RowId(job.Get<int?>("Row")!.Value), job.Get<string>("RowId"));
        }

        var outcome = Check(result, jobs.Select(j => (j.Get<int?>("Row")!.Value, j.Get<string>("RequestId")!)).ToList());

        var counters = _emulator.Server.Counters;
        Assert.Equal(jobs.Count + counters.Faults(FaultKind.DropAfterAccept), counters.AcceptedSubmits);
        AssertFaultsHappened(outcome, result);
    }

    [Fact]
    public void A_journaled_Invoke_batch_under_faults_saves_or_reports_every_row_and_charges_none_twice()
    {
        const string key = "soak-key-invoke-journal";
        _emulator.Reset(options =>
        {
            options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, key };
            options.Workers = 128;
            options.RetentionSeconds = 1_000_000;
            ConfigureFaults(options.Faults);
        });
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession(key);
        var outputs = directory.File("videos");
        var journal = directory.File("soak.journal");

        var result = session.Run(
            RowsScript(RowCount) + $$"""

            $rows | Invoke-WanAnimate -OutputDirectory $args[0] -JournalPath $args[1] -ThrottleLimit 16 {{FastPoll}} -Timeout '00:05:00'
            """,
            outputs,
            journal);
        Assert.True(result.Terminating == null, result.Describe());

        // Invoke writes no job objects: the rows that got a job are those with a result or a wait-side error.
        var known = new List<(int Row, string RequestId)>();
        foreach (var item in result.Objects("WanAnimateResult"))
        {
            var file = item.Get<string>("OutputFile")!;
            Assert.Equal(Path.Combine(outputs, item.Get<string>("RequestId") + ".mp4"), file);
            Assert.True(Mp4.StartsWithFtypBox(file), "Not a video: " + file);
            known.Add((item.Get<int?>("Row")!.Value, item.Get<string>("RequestId")!));
        }

        foreach (var error in result.Errors.Where(e => !e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)))
        {
            var id = Regex.Match(error.ToString(), "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
            var target = PSObject.AsPSObject(error.TargetObject);
            var rowId = (target.Properties["RowId"]?.Value ?? target.Properties["Id"]?.Value)?.ToString();
            if (id.Success && rowId != null && rowId.StartsWith("soak-", StringComparison.Ordinal))
            {
                known.Add((int.Parse(rowId["soak-".Length..], System.Globalization.CultureInfo.InvariantCulture), id.Value));
            }
        }

        var outcome = Check(result, known);
        var counters = _emulator.Server.Counters;
        Assert.Equal(known.Count + counters.Faults(FaultKind.DropAfterAccept), counters.AcceptedSubmits);
        Assert.Equal(outcome.Completed, Directory.GetFiles(outputs, "*.mp4").Length);
        Assert.True(File.Exists(journal) || Directory.GetFiles(directory.Path, "soak.journal*").Length > 0, "No journal was written.");
        AssertFaultsHappened(outcome, result);
    }

    private void AssertFaultsHappened(Outcome outcome, ScriptResult result)
    {
        // The faults really happened, and in every form that matters here.
        var counters = _emulator.Server.Counters;
        Assert.True(counters.Faults(FaultKind.DropAfterAccept) > 0, "No submit was dropped after it was accepted; raise the drop probability.");
        Assert.True(counters.Faults(FaultKind.DropBeforeAccept) > 0, "No connection was dropped before handling.");
        Assert.True(counters.Faults(FaultKind.ServerError) > 0, "No 5xx was injected.");
        Assert.True(counters.Faults(FaultKind.RateLimit) > 0, "No 429 was injected.");
        Assert.True(counters.Faults(FaultKind.SlowResponse) > 0, "No answer was slowed down.");

        // A submit whose answer was lost after acceptance surfaces as SubmitOutcomeUnknown, never as a second job.
        Assert.True(outcome.OutcomeUnknownRows >= counters.Faults(FaultKind.DropAfterAccept),
            $"{counters.Faults(FaultKind.DropAfterAccept)} accepted submits lost their answer but only {outcome.OutcomeUnknownRows} rows say the outcome is unknown.");

        // Most rows get through: the faults are rare, retries of safe requests absorb them.
        Assert.True(outcome.Completed >= RowCount * 8 / 10, $"Only {outcome.Completed} of {RowCount} rows completed.\n" + Summary(result));
    }

    /// <summary>The fault mix: what each endpoint group does wrong, and how often.</summary>
    private static void ConfigureFaults(FaultOptions faults)
    {
        faults.Clear();

        // Submits: rare 429s with a Retry-After in seconds, and dropped connections, half of them after the job
        // was accepted and charged.
        faults.Submit = new FaultProfile
        {
            // About 10 of 500 submits: often enough that a run without any (under 0.01 %) does not happen.
            RateLimitFaultProbability = 0.02,
            RateLimitRetryAfterSeconds = 1,
            RateLimitRetryAfterStyle = RetryAfterStyle.Seconds,
            DropConnectionProbability = 0.04,
            DropAfterAcceptProbability = 0.5,
        };

        // Polls: 5xx, 429s that only carry the reset header, and drops (which, for a GET, change nothing).
        faults.Status = new FaultProfile
        {
            ServerErrorProbability = 0.03,
            RateLimitFaultProbability = 0.0005,
            RateLimitRetryAfterSeconds = 1,
            RateLimitRetryAfterStyle = RetryAfterStyle.ResetHeaderOnly,
            DropConnectionProbability = 0.01,
            DropAfterAcceptProbability = 0,
        };

        // Results: 5xx (some as gateway HTML pages) and 429s dated the HTTP way.
        faults.Result = new FaultProfile
        {
            ServerErrorProbability = 0.05,
            RateLimitFaultProbability = 0.01,
            RateLimitRetryAfterSeconds = 1,
            RateLimitRetryAfterStyle = RetryAfterStyle.HttpDate,
            DropConnectionProbability = 0.01,
            DropAfterAcceptProbability = 0,
        };

        // Everywhere: now and then a slow answer.
        faults.All = new FaultProfile
        {
            SlowResponseProbability = 0.01,
            SlowResponseSeconds = 0.3,
        };
    }

    /// <summary>CSV-shaped rows with distinct prompts and explicit ids.</summary>
    private static string RowsScript(int count) =>
        $$"""
        $rows = 1..{{count}} | ForEach-Object {
            [pscustomobject]@{ InputVideo = "https://media.example.com/soak/$_.mp4"; ReferenceImage = 'https://media.example.com/soak/face.png'; Prompt = "soak row $_"; Mode = 'animation'; Resolution = '480p'; Seed = "$_"; Id = "soak-$_" }
        }
        """;

    private static string RowId(int row) => "soak-" + row;

    private static string Fingerprint(int row) => EmulatorCounters.Fingerprint(
        $"https://media.example.com/soak/{row}.mp4", "https://media.example.com/soak/face.png", $"soak row {row}", "animation", "480p", row);

    private sealed record Outcome(int Completed, int Failed, long OutcomeUnknownRows);

    /// <summary>
    /// The invariants every soak run must keep: one outcome per row, errors about their row with a stable id,
    /// at most one paid job per input (exactly one per row that got a job), and every accepted id accounted for.
    /// </summary>
    private Outcome Check(ScriptResult result, IReadOnlyList<(int Row, string RequestId)> jobs)
    {
        var counters = _emulator.Server.Counters;
        var results = result.Objects("WanAnimateResult");
        var completedRows = new Dictionary<string, PSObject>(StringComparer.Ordinal);
        foreach (var item in results)
        {
            Assert.Equal("COMPLETED", item.Get<string>("Status"));
            var rowId = item.Get<string>("RowId")!;
            Assert.True(completedRows.TryAdd(rowId, item), "Row " + rowId + " completed twice.");
        }

        var erroredRows = new Dictionary<string, List<ErrorRecord>>(StringComparer.Ordinal);
        var namedInErrors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var error in result.Errors)
        {
            var errorId = error.FullyQualifiedErrorId.Split(',')[0];
            Assert.True(errorId.StartsWith("WanAnimate.", StringComparison.Ordinal), "Not a module error id: " + error.FullyQualifiedErrorId + ": " + error);
            Assert.Contains(errorId["WanAnimate.".Length..], ExpectedErrorIds);
            Assert.False(string.IsNullOrWhiteSpace(error.ToString()));

            // The target is the row itself (a submit error) or the row's job (a wait error): either names the row.
            Assert.NotNull(error.TargetObject);
            var target = PSObject.AsPSObject(error.TargetObject);
            var rowId = (target.Properties["RowId"]?.Value ?? target.Properties["Id"]?.Value)?.ToString();
            Assert.False(string.IsNullOrEmpty(rowId), "The error's target does not name its row: " + error);
            erroredRows.TryAdd(rowId!, new List<ErrorRecord>());
            erroredRows[rowId!].Add(error);

            if (target.Properties["RequestId"]?.Value is string requestId)
            {
                namedInErrors.Add(requestId);
            }

            foreach (Match match in Regex.Matches(error.ToString(), "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"))
            {
                namedInErrors.Add(match.Value);
            }
        }

        // Every row: exactly one of "completed" and "has an error".
        for (var row = 1; row <= RowCount; row++)
        {
            var id = RowId(row);
            var completed = completedRows.ContainsKey(id);
            var errored = erroredRows.ContainsKey(id);
            Assert.True(completed ^ errored, $"Row {id}: completed={completed}, errors={(errored ? string.Join(" | ", erroredRows[id]) : "none")}.");
        }

        Assert.Equal(RowCount, completedRows.Count + erroredRows.Count);

        // At most one paid job per input; exactly one for each row that got a job object.
        var byFingerprint = counters.AcceptedJobsByFingerprint;
        Assert.All(byFingerprint, pair => Assert.True(pair.Value <= 1, $"Input {pair.Key} was accepted {pair.Value} times."));
        var jobRows = new HashSet<string>(StringComparer.Ordinal);
        var jobIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (row, requestId) in jobs)
        {
            Assert.Equal(1, counters.AcceptedJobsFor(Fingerprint(row)));
            Assert.True(jobRows.Add(RowId(row)), "Two jobs for row " + row + ".");
            jobIds.Add(requestId);
        }

        // Rows without a job object failed at the submit: their error says so, never a wait-side error.
        var outcomeUnknownRows = 0;
        foreach (var (rowId, errors) in erroredRows)
        {
            if (jobRows.Contains(rowId))
            {
                continue;
            }

            Assert.All(errors, e => Assert.Equal(PSObject.AsPSObject(e.TargetObject).Properties["Id"]?.Value as string, rowId));
            if (errors.Any(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)))
            {
                outcomeUnknownRows++;
                var message = errors.First().ToString();
                Assert.Contains("not re-sent", message, StringComparison.OrdinalIgnoreCase);
            }
        }

        // No request id lost: each accepted id is a result, an error naming it, or the job of a row whose error says
        // its submit's outcome is unknown (the answer carrying the id never arrived).
        var resultIds = results.Select(r => r.Get<string>("RequestId")!).ToHashSet(StringComparer.Ordinal);
        var unknownRowFingerprints = erroredRows
            .Where(pair => !jobRows.Contains(pair.Key) && pair.Value.Any(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.SubmitOutcomeUnknown", StringComparison.Ordinal)))
            .Select(pair => Fingerprint(int.Parse(pair.Key["soak-".Length..], System.Globalization.CultureInfo.InvariantCulture)))
            .ToHashSet(StringComparer.Ordinal);
        var unaccounted = 0;
        foreach (var accepted in counters.AcceptedRequestIds)
        {
            if (jobIds.Contains(accepted))
            {
                Assert.True(resultIds.Contains(accepted) || namedInErrors.Contains(accepted), "Accepted job " + accepted + " is neither a result nor named by an error.");
            }
            else
            {
                unaccounted++;
            }
        }

        // The jobs the client never heard of are exactly the inputs accepted without a job object, and each of
        // those rows says its submit's outcome is unknown.
        var jobFingerprints = jobs.Select(j => Fingerprint(j.Row)).ToHashSet(StringComparer.Ordinal);
        var acceptedWithoutJob = byFingerprint.Keys.Where(f => !jobFingerprints.Contains(f)).ToList();
        Assert.Equal(unaccounted, acceptedWithoutJob.Count);
        Assert.All(acceptedWithoutJob, f => Assert.True(unknownRowFingerprints.Contains(f), "Input " + f + " was accepted, has no job object, and its row does not say the submit outcome is unknown."));

        return new Outcome(completedRows.Count, erroredRows.Count, outcomeUnknownRows);
    }

    private static string Summary(ScriptResult result) =>
        string.Join("\n", result.Errors.GroupBy(e => e.FullyQualifiedErrorId).Select(g => g.Count() + " x " + g.Key + ": " + g.First()));
}

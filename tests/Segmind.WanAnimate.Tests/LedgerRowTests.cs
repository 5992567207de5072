using System.Management.Automation;
using System.Text.RegularExpressions;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// What the per-user ledger (and a batch journal) remember about a job, seen from the cmdlets: times that export the
/// same in every culture, the row of a job saved by request id alone, and jobs Segmind no longer knows.
/// </summary>
public sealed class LedgerRowTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private static readonly Regex Iso = new(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$");

    private readonly EmulatorFixture _emulator;

    public LedgerRowTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    private static PSObject Row(string id)
    {
        var row = new PSObject();
        row.Properties.Add(new PSNoteProperty("Id", id));
        row.Properties.Add(new PSNoteProperty("input_video", $"https://media.example.com/{id}.mp4"));
        row.Properties.Add(new PSNoteProperty("reference_image", "https://media.example.com/hero.png"));
        row.Properties.Add(new PSNoteProperty("prompt", $"prompt of {id}"));
        return row;
    }

    private static string UniqueId(string name) => name + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Submits one row and returns its request id.</summary>
    private static string Submit(PowerShellSession session, string rowId, string extra = "", params object?[] arguments)
    {
        var job = session.Run("$args[0] | New-WanAnimateJob " + extra, new object?[] { Row(rowId) }.Concat(arguments).ToArray()).ThrowOnError().Objects("WanAnimateJob").Single();
        return job.Get<string>("RequestId")!;
    }

    private static List<PSObject> LedgerEntries(PowerShellSession session, string requestId, string status = "") =>
        session.Run($"Get-WanAnimateJob {status} | Where-Object RequestId -eq $args[0]", requestId).ThrowOnError().Objects("WanAnimateLedgerEntry");

    [Fact]
    public void Ledger_entries_carry_their_times_as_ISO_8601_text_like_jobs_and_results()
    {
        using var session = _emulator.OpenSession();
        var job = session.Run("$args[0] | New-WanAnimateJob", Row(UniqueId("iso"))).ThrowOnError().Objects("WanAnimateJob").Single();
        var requestId = job.Get<string>("RequestId")!;

        // Text, not a DateTimeOffset: Export-Csv writes a DateTimeOffset in the session's culture (de-DE, ja-JP differ).
        var entry = LedgerEntries(session, requestId).Single();
        var submitted = Assert.IsType<string>(entry.Properties["SubmittedAt"].Value);
        var recorded = Assert.IsType<string>(entry.Properties["RecordedAt"].Value);
        Assert.Matches(Iso, submitted);
        Assert.Matches(Iso, recorded);
        Assert.Equal(job.Get<string>("SubmittedAt"), submitted);

        // And it still pipes into Wait-WanAnimateJob, which carries the time into the result.
        var result = session.Run("Get-WanAnimateJob | Where-Object RequestId -eq $args[0] | Wait-WanAnimateJob " + FastPoll, requestId).ThrowOnError().Objects("WanAnimateResult").Single();
        Assert.Equal(submitted, result.Get<string>("SubmittedAt"));
    }

    [Fact]
    public void Save_by_request_id_alone_names_the_file_and_the_result_from_the_ledger()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var rowId = UniqueId("hero");
        var requestId = Submit(session, rowId);
        session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll}", requestId).ThrowOnError();

        var saved = session.Run("Save-WanAnimateOutput -RequestId $args[0] -Directory $args[1] -FileName '{RowId}.mp4'", requestId, directory.Path).ThrowOnError();

        var result = saved.Objects("WanAnimateResult").Single();
        Assert.Equal(Path.Combine(directory.Path, rowId + ".mp4"), result.Get<string>("OutputFile"));
        Assert.True(Mp4.StartsWithFtypBox(result.Get<string>("OutputFile")!));
        Assert.Equal(rowId, result.Get<string>("RowId"));
        Assert.Equal(1, result.Get<int?>("Row"));
        Assert.Equal($"prompt of {rowId}", result.Get<string>("Prompt"));
        Assert.Matches(Iso, result.Get<string>("SubmittedAt")!);
        Assert.Equal("saved", LedgerEntries(session, requestId).Single().Get<string>("Status"));
    }

    [Fact]
    public void Save_by_request_id_alone_takes_the_row_from_the_journal_given()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var journal = directory.File("batch.journal");
        var rowId = UniqueId("journaled");
        var requestId = Submit(session, rowId, "-JournalPath $args[1]", journal);
        session.Run($"Wait-WanAnimateJob -JournalPath $args[0] {FastPoll}", journal).ThrowOnError();

        // Without the ledger, only the journal knows the row.
        var saved = session.Run(
            """
            param($id, $journal, $folder)
            $env:SEGMIND_LEDGER = 'off'
            try { Save-WanAnimateOutput -RequestId $id -JournalPath $journal -Directory $folder -FileName '{RowId}.mp4' }
            finally { [Environment]::SetEnvironmentVariable('SEGMIND_LEDGER', $null) }
            """,
            requestId,
            journal,
            directory.File("videos")).ThrowOnError();

        var result = saved.Objects("WanAnimateResult").Single();
        Assert.Equal(Path.Combine(directory.File("videos"), rowId + ".mp4"), result.Get<string>("OutputFile"));
        Assert.Equal(rowId, result.Get<string>("RowId"));
        Assert.Equal($"prompt of {rowId}", result.Get<string>("Prompt"));
    }

    [Theory]
    [InlineData("Wait")]
    [InlineData("Status")]
    [InlineData("Save")]
    public void A_job_Segmind_no_longer_knows_is_listed_as_expired_not_pending(string command)
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var requestId = Submit(session, UniqueId("expired-" + command.ToLowerInvariant()));
        if (command == "Save")
        {
            // Completed, and its result expired before it was saved.
            session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll}", requestId).ThrowOnError();
            Assert.Equal("completed", LedgerEntries(session, requestId).Single().Get<string>("Status"));
        }
        else
        {
            Assert.Equal("pending", LedgerEntries(session, requestId).Single().Get<string>("Status"));
        }

        _emulator.Server.ExpireJob(requestId);
        var script = command switch
        {
            "Wait" => $"Get-WanAnimateJob | Where-Object RequestId -eq $args[0] | Wait-WanAnimateJob {FastPoll}",
            "Status" => "Get-WanAnimateStatus -RequestId $args[0]",
            _ => "Save-WanAnimateOutput -RequestId $args[0] -Directory $args[1]",
        };
        var run = session.Run(script, requestId, directory.Path);

        Assert.Contains(run.Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.NotFound", StringComparison.Ordinal));
        var entry = LedgerEntries(session, requestId).Single();
        Assert.Equal("expired", entry.Get<string>("Status"));
        Assert.Empty(LedgerEntries(session, requestId, "-Status pending, completed"));
        Assert.Single(LedgerEntries(session, requestId, "-Status expired"));
    }

    [Fact]
    public void A_saved_job_stays_saved_when_its_result_expires_later()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var requestId = Submit(session, UniqueId("kept"));
        session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll} | Save-WanAnimateOutput -Directory $args[1]", requestId, directory.Path).ThrowOnError();

        _emulator.Server.ExpireJob(requestId);
        session.Run("Get-WanAnimateStatus -RequestId $args[0]", requestId);

        Assert.Equal("saved", LedgerEntries(session, requestId).Single().Get<string>("Status"));
    }
}

using Segmind.Client.Tests.TestSupport;
using Segmind.Client.TableStorage;
using Xunit;
using static Segmind.Client.Tests.TestSupport.JournalSamples;

namespace Segmind.Client.Tests.TableStorage;

/// <summary>The batch journal kept in an Azure table (Azurite): same records and protocol as the file, safe across processes and machines.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TableJournalTests
{
    private readonly AzuriteServer _azurite;

    public TableJournalTests(AzuriteServer azurite)
    {
        _azurite = azurite;
    }

    private static WanAnimateRequest Request(string prompt = "a dancer", long seed = 42) =>
        JournalSamples.Request(prompt, seed, JournalSamples.InputVideo + "?se=2030&sig=INPUT-URL-SIGNATURE");

    private TableCredential Key => TableCredential.Parse(_azurite.ConnectionString, "JournalCredential");

    private TableStorageClient Raw(string address) => new(TableAddress.Parse(address, "JournalPath"), Key);

    [Fact]
    public async Task A_row_lives_in_one_entity_and_a_fresh_process_reads_it_back_like_the_file_journal()
    {
        var address = _azurite.NewTableAddress();
        using (var journal = BatchJournal.Open(address, Key))
        {
            Assert.Equal(address, journal.Path);
            journal.RecordSubmitting("hero/01 #1", Request());
            journal.RecordSubmitted("hero/01 #1", Submitted("req-1"));

            // Outcome and save known only by request id, as Wait and Save record them.
            journal.RecordOutcome(null, Completed("req-1"));
            journal.RecordSaved(null, "req-1", "out/req-1.mp4", 1234);
        }

        // A new sandbox: nothing local survives, the table is all there is.
        using (var again = BatchJournal.Open(address, Key))
        {
            var row = again.Find("hero/01 #1");
            Assert.NotNull(row);
            Assert.Equal(JournalRowPhase.Saved, row!.Phase);
            Assert.Equal("req-1", row.RequestId);
            Assert.Equal("out/req-1.mp4", row.SavedPath);
            Assert.Equal(1234, row.SavedLength);
            Assert.Equal("https://cdn.example.test/out/req-1.mp4", row.Output);
            Assert.False(row.MaySubmit);
            Assert.Null(again.Find("never-seen"));
            Assert.Equal("hero/01 #1", again.FindByRequestId("req-1")!.RowId);

            var state = again.ReadState();
            Assert.Single(state.Rows);
            Assert.Equal(JournalRowPhase.Saved, state.Find("hero/01 #1")!.Phase);
        }

        var entities = await Raw(address).QueryAsync("PartitionKey eq 'row'", CancellationToken.None);
        var entity = Assert.Single(entities);
        Assert.Equal("hero~2F01~20~231", entity.RowKey);
        Assert.Equal("saved", entity.GetString("Kind"));
        Assert.Equal("req-1", entity.GetString("RequestId"));
        Assert.DoesNotContain("INPUT-URL-SIGNATURE", entity.GetString("Records"));
        Assert.DoesNotContain(AzuriteServer.AccountKey, entity.GetString("Records"));
    }

    [Fact]
    public async Task Two_runs_on_one_table_at_once_submit_each_row_exactly_once()
    {
        var address = _azurite.NewTableAddress();
        using var first = BatchJournal.Open(address, Key);
        using var second = BatchJournal.Open(address, TableCredential.Parse(AzuriteServer.TableSas(TableAddress.Parse(address, "JournalPath").TableName, "rau"), "JournalCredential"));
        var sent = new System.Collections.Concurrent.ConcurrentBag<string>();
        var refused = 0;

        async Task Run(BatchJournal journal, string name)
        {
            await Task.Yield();
            for (var i = 0; i < 30; i++)
            {
                var rowId = "row-" + i;
                var row = journal.Find(rowId);
                if (row != null && !row.MaySubmit)
                {
                    continue;
                }

                try
                {
                    journal.RecordSubmitting(rowId, Request("row " + i));
                }
                catch (SegmindRowClaimedException)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }

                // Only now would the POST go out.
                sent.Add(rowId);
                journal.RecordSubmitted(rowId, Submitted(name + "-" + i));
            }
        }

        await Task.WhenAll(Task.Run(() => Run(first, "a")), Task.Run(() => Run(second, "b")));

        Assert.Equal(30, sent.Count);
        Assert.Equal(30, sent.Distinct().Count());
        var state = first.ReadState();
        Assert.Equal(30, state.Rows.Count);
        Assert.All(state.Rows.Values, row => Assert.Equal(JournalRowPhase.Submitted, row.Phase));
    }

    [Fact]
    public void A_row_claimed_by_a_live_run_is_refused_and_freed_when_that_run_ends()
    {
        var address = _azurite.NewTableAddress();
        var holder = BatchJournal.Open(address, Key);
        using var other = BatchJournal.Open(address, Key);
        holder.RecordSubmitting("r1", Request());

        // On the wire (or sent and unanswered): never free, whatever becomes of its holder.
        Assert.Throws<SegmindRowClaimedException>(() => other.RecordSubmitting("r1", Request()));
        holder.Dispose();
        Assert.Throws<SegmindRowClaimedException>(() => other.RecordSubmitting("r1", Request()));
        Assert.Equal(JournalRowPhase.Unknown, other.Find("r1")!.Phase);

        // Released by the user: the next run submits it again.
        other.RecordReleased("r1", "checked: no job");
        other.RecordSubmitting("r1", Request());
        other.RecordSubmitted("r1", Submitted("req-r1"));
        Assert.Equal("req-r1", other.Find("r1")!.RequestId);
    }

    [Fact]
    public async Task A_claim_whose_holder_stopped_beating_is_taken_over_and_the_old_holder_can_no_longer_send()
    {
        var address = _azurite.NewTableAddress();
        var parsed = TableAddress.Parse(address, "JournalPath");

        // The stalled holder never beats again after opening; its lease is a moment.
        var stalled = TableJournalStore.OpenWith(new TableStorageClient(parsed, Key), new TableJournalOptions { HeartbeatInterval = Timeout.InfiniteTimeSpan, Lease = TimeSpan.FromMilliseconds(1) });
        using var live = TableJournalStore.OpenWith(new TableStorageClient(parsed, Key), new TableJournalOptions());

        var claimed = BatchJournal.FormatRecord(JournalRecordKinds.Claimed, "r1", null, w => w.WriteString("owner", "stalled"));
        stalled.Atomically(() =>
        {
            Assert.Null(stalled.Find("r1"));
            stalled.Append(JournalRecordKinds.Claimed, "r1", null, claimed);
            return true;
        });

        // The service's clock, read from its Date header, is coarse: wait (bounded) until the lease is past for it too.
        var takenOver = false;
        for (var attempt = 0; attempt < 150 && !takenOver; attempt++)
        {
            try
            {
                live.Atomically(() =>
                {
                    live.Find("r1");
                    live.Append(JournalRecordKinds.Claimed, "r1", null, BatchJournal.FormatRecord(JournalRecordKinds.Claimed, "r1", null, w => w.WriteString("owner", "live")));
                    return true;
                });
                takenOver = true;
            }
            catch (SegmindRowClaimedException)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(takenOver, "the stale claim was never taken over");

        // The stalled run giving its claim back must not free the row the live run now holds.
        stalled.Append(JournalRecordKinds.NotSubmitted, "r1", null, BatchJournal.FormatRecord(JournalRecordKinds.NotSubmitted, "r1", null, w => w.WriteString("error", "stopped")));
        Assert.Equal(JournalRowPhase.Claimed, live.Find("r1")!.Phase);
        var submitting = BatchJournal.FormatRecord(JournalRecordKinds.Submitting, "r1", null, w => w.WriteString("fingerprint", "f"));
        Assert.Throws<SegmindRowClaimedException>(() => stalled.Append(JournalRecordKinds.Submitting, "r1", null, submitting));
        live.Append(JournalRecordKinds.Submitting, "r1", null, submitting);
        Assert.Equal(JournalRowPhase.Unknown, live.Find("r1")!.Phase);
        stalled.Dispose();
    }

    [Fact]
    public async Task A_row_left_on_the_wire_by_a_holder_that_stopped_beating_reads_as_unknown_not_as_held()
    {
        var address = _azurite.NewTableAddress();
        var parsed = TableAddress.Parse(address, "JournalPath");
        var stalled = TableJournalStore.OpenWith(new TableStorageClient(parsed, Key), new TableJournalOptions { HeartbeatInterval = Timeout.InfiniteTimeSpan, Lease = TimeSpan.FromMilliseconds(1) });
        using var other = TableJournalStore.OpenWith(new TableStorageClient(parsed, Key), new TableJournalOptions());
        stalled.Atomically(() =>
        {
            stalled.Find("r1");
            stalled.Append(JournalRecordKinds.Claimed, "r1", null, BatchJournal.FormatRecord(JournalRecordKinds.Claimed, "r1", null, w => w.WriteString("owner", "stalled")));
            return true;
        });
        stalled.Append(JournalRecordKinds.Submitting, "r1", null, BatchJournal.FormatRecord(JournalRecordKinds.Submitting, "r1", null, w => w.WriteString("fingerprint", "f")));

        // Once the lease is past on the service's clock, the dead run's claim no longer counts: the row is unknown.
        JournalRow? row = null;
        for (var attempt = 0; attempt < 150; attempt++)
        {
            row = other.Find("r1");
            if (row!.Claim is null && row.Phase == JournalRowPhase.Unknown)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal(JournalRowPhase.Unknown, row!.Phase);
        Assert.Null(row.Claim);
        Assert.True(row.SubmitInterrupted);
        Assert.Throws<SegmindRowClaimedException>(() => other.Append(JournalRecordKinds.Submitting, "r1", null, BatchJournal.FormatRecord(JournalRecordKinds.Submitting, "r1", null, w => w.WriteString("fingerprint", "f"))));
        stalled.Dispose();
    }

    [Fact]
    public async Task A_read_only_sas_fails_when_the_journal_opens_with_one_clear_error_and_writes_nothing()
    {
        var address = _azurite.NewTableAddress();
        var raw = Raw(address);
        await raw.CreateTableAsync(CancellationToken.None);
        var sas = AzuriteServer.TableSas(TableAddress.Parse(address, "JournalPath").TableName, "r");

        var error = Assert.Throws<SegmindJournalAccessException>(() => BatchJournal.Open(address, TableCredential.Parse(sas, "JournalCredential")));
        Assert.Contains("read, add and update", error.Message);
        Assert.DoesNotContain(sas, error.ToString());
        Assert.DoesNotContain(sas.Split("sig=")[1], error.ToString());
        Assert.Empty(await raw.QueryAsync("PartitionKey ne ''", CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_table_is_created_with_a_key_but_a_table_sas_cannot_create_it()
    {
        var address = _azurite.NewTableAddress();
        var sas = AzuriteServer.TableSas(TableAddress.Parse(address, "JournalPath").TableName, "rau");
        var error = Assert.Throws<SegmindJournalAccessException>(() => BatchJournal.Open(address, TableCredential.Parse(sas, "JournalCredential")));
        Assert.Contains("does not exist", error.Message);

        using (BatchJournal.Open(address, Key))
        {
        }

        using var withSas = BatchJournal.Open(address, TableCredential.Parse(sas, "JournalCredential"));
        Assert.Single(await Raw(address).QueryAsync("PartitionKey eq 'holder'", CancellationToken.None), e => e["Ended"] is false);
    }

    [Fact]
    public void The_credential_comes_from_the_environment_when_not_given()
    {
        var address = _azurite.NewTableAddress();
        var error = Assert.Throws<SegmindValidationException>(() => BatchJournal.Open(address, null));
        Assert.Equal("JournalCredential", error.Field);
        Assert.Contains(TableCredential.SasEnvironmentVariable, error.Message);

        Environment.SetEnvironmentVariable(TableCredential.ConnectionStringEnvironmentVariable, _azurite.ConnectionString);
        try
        {
            using var journal = BatchJournal.Open(address, null);
            journal.RecordSubmitting("r1", Request());
            Assert.Equal(JournalRowPhase.Unknown, journal.Find("r1")!.Phase);
        }
        finally
        {
            Environment.SetEnvironmentVariable(TableCredential.ConnectionStringEnvironmentVariable, null);
        }
    }
}

using Segmind.Client.Tests.TestSupport;
using Segmind.Client.TableStorage;
using Xunit;

namespace Segmind.Client.Tests.TableStorage;

/// <summary>The core's Table REST client against Azurite: a real Table endpoint over loopback HTTP.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TableStorageClientTests
{
    private readonly AzuriteServer _azurite;

    public TableStorageClientTests(AzuriteServer azurite)
    {
        _azurite = azurite;
    }

    private TableStorageClient WithKey(string address) =>
        new(TableAddress.Parse(address, "JournalPath"), TableCredential.Parse(_azurite.ConnectionString, "JournalCredential"));

    private static TableStorageClient WithSas(string address, string permissions)
    {
        var parsed = TableAddress.Parse(address, "JournalPath");
        return new TableStorageClient(parsed, TableCredential.Parse(AzuriteServer.TableSas(parsed.TableName, permissions), "JournalCredential"));
    }

    [Fact]
    public async Task Creates_the_table_once_and_inserts_an_entity_once()
    {
        var client = WithKey(_azurite.NewTableAddress());
        Assert.True(await client.CreateTableAsync(CancellationToken.None));
        Assert.False(await client.CreateTableAsync(CancellationToken.None));

        var entity = new TableEntity("row", "hero-01")
        {
            ["Phase"] = "claimed",
            ["Attempt"] = 2,
            ["Length"] = 5_000_000_000L,
            ["Attached"] = true,
            ["At"] = new DateTimeOffset(2026, 11, 30, 8, 15, 0, TimeSpan.Zero),
            ["Prompt"] = "un chevalier à l'aube, 'quoted'",
        };
        var etag = await client.TryInsertAsync(entity, CancellationToken.None);
        Assert.False(string.IsNullOrEmpty(etag));

        // A second insert of the same keys is the other writer's signal that the row is taken.
        Assert.Null(await client.TryInsertAsync(new TableEntity("row", "hero-01") { ["Phase"] = "claimed" }, CancellationToken.None));

        var read = await client.GetAsync("row", "hero-01", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(etag, read!.ETag);
        Assert.Equal("claimed", read.GetString("Phase"));
        Assert.Equal(2L, read.GetInt64("Attempt"));
        Assert.Equal(5_000_000_000L, read.GetInt64("Length"));
        Assert.Equal(true, read["Attached"]);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 15, 0, TimeSpan.Zero), read.GetDateTime("At"));
        Assert.Equal("un chevalier à l'aube, 'quoted'", read.GetString("Prompt"));

        Assert.Null(await client.GetAsync("row", "nobody", CancellationToken.None));
    }

    [Fact]
    public async Task A_replace_with_a_stale_etag_is_refused_and_changes_nothing()
    {
        var client = WithKey(_azurite.NewTableAddress());
        await client.CreateTableAsync(CancellationToken.None);
        await client.TryInsertAsync(new TableEntity("row", "r1") { ["Phase"] = "claimed", ["Owner"] = "first" }, CancellationToken.None);

        var mine = (await client.GetAsync("row", "r1", CancellationToken.None))!;
        var theirs = (await client.GetAsync("row", "r1", CancellationToken.None))!;
        Assert.Equal(mine.ETag, theirs.ETag);

        mine["Phase"] = "sending";
        var newEtag = await client.TryReplaceAsync(mine, mine.ETag!, CancellationToken.None);
        Assert.NotNull(newEtag);
        Assert.NotEqual(theirs.ETag, newEtag);

        theirs["Phase"] = "released";
        theirs["Owner"] = "second";
        Assert.Null(await client.TryReplaceAsync(theirs, theirs.ETag!, CancellationToken.None));

        var now = (await client.GetAsync("row", "r1", CancellationToken.None))!;
        Assert.Equal("sending", now.GetString("Phase"));
        Assert.Equal("first", now.GetString("Owner"));
        Assert.Equal(newEtag, now.ETag);

        // With the current ETag the same write goes through.
        Assert.NotNull(await client.TryReplaceAsync(theirs, now.ETag!, CancellationToken.None));
    }

    [Fact]
    public async Task Query_returns_one_partition_only_and_follows_continuations()
    {
        var client = WithKey(_azurite.NewTableAddress());
        await client.CreateTableAsync(CancellationToken.None);
        for (var i = 0; i < 1005; i++)
        {
            await client.TryInsertAsync(new TableEntity("row", "r" + i.ToString("D4")) { ["N"] = i }, CancellationToken.None);
        }

        await client.TryInsertAsync(new TableEntity("meta", "probe") { ["N"] = -1 }, CancellationToken.None);

        var rows = await client.QueryAsync("PartitionKey eq " + TableStorageClient.Literal("row"), CancellationToken.None);
        Assert.Equal(1005, rows.Count);
        Assert.Equal(Enumerable.Range(0, 1005).Select(i => (long)i), rows.Select(r => r.GetInt64("N")!.Value).OrderBy(n => n));
        Assert.All(rows, r => Assert.False(string.IsNullOrEmpty(r.ETag)));
    }

    [Fact]
    public async Task A_table_sas_with_read_add_update_rights_reads_inserts_and_replaces()
    {
        var address = _azurite.NewTableAddress();
        await WithKey(address).CreateTableAsync(CancellationToken.None);
        var client = WithSas(address, "raud");

        var entity = new TableEntity("row", "r1") { ["Phase"] = "claimed" };
        Assert.NotNull(await client.TryInsertAsync(entity, CancellationToken.None));
        entity["Phase"] = "submitted";
        Assert.NotNull(await client.TryReplaceAsync(entity, entity.ETag!, CancellationToken.None));
        Assert.Equal("submitted", (await client.GetAsync("row", "r1", CancellationToken.None))!.GetString("Phase"));
    }

    [Fact]
    public async Task A_read_only_sas_is_refused_with_an_access_error_that_never_quotes_the_sas()
    {
        var address = _azurite.NewTableAddress();
        await WithKey(address).CreateTableAsync(CancellationToken.None);
        var table = TableAddress.Parse(address, "JournalPath").TableName;
        var sas = AzuriteServer.TableSas(table, "r");
        var signature = Uri.UnescapeDataString(sas.Split('&').Single(p => p.StartsWith("sig=")).Substring(4));
        var client = new TableStorageClient(TableAddress.Parse(address, "JournalPath"), TableCredential.Parse(sas, "JournalCredential"));

        Assert.Null(await client.GetAsync("row", "r1", CancellationToken.None));
        var error = await Assert.ThrowsAsync<SegmindJournalAccessException>(() => client.TryInsertAsync(new TableEntity("row", "r1"), CancellationToken.None));
        Assert.Equal("JournalAccessDenied", error.ErrorId);
        Assert.Equal(403, error.StatusCode);
        Assert.Contains("read, add and update", error.Message);
        AssertNoSecret(error, sas, signature);
    }

    [Fact]
    public async Task An_expired_sas_and_a_wrong_account_key_are_access_errors_without_the_secret()
    {
        var address = _azurite.NewTableAddress();
        await WithKey(address).CreateTableAsync(CancellationToken.None);
        var table = TableAddress.Parse(address, "JournalPath").TableName;
        var expired = AzuriteServer.TableSas(table, "raud", DateTimeOffset.UtcNow.AddHours(-1));
        var expiredClient = new TableStorageClient(TableAddress.Parse(address, "JournalPath"), TableCredential.Parse(expired, "JournalCredential"));
        var error = await Assert.ThrowsAsync<SegmindJournalAccessException>(() => expiredClient.GetAsync("row", "r1", CancellationToken.None));
        AssertNoSecret(error, expired, expired.Split("sig=")[1]);

        var wrongKey = Convert.ToBase64String(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray());
        var wrong = $"AccountName={AzuriteServer.Account};AccountKey={wrongKey}";
        var wrongClient = new TableStorageClient(TableAddress.Parse(address, "JournalPath"), TableCredential.Parse(wrong, "JournalCredential"));
        var denied = await Assert.ThrowsAsync<SegmindJournalAccessException>(() => wrongClient.GetAsync("row", "r1", CancellationToken.None));
        AssertNoSecret(denied, wrongKey, wrongKey);
    }

    [Fact]
    public async Task A_missing_table_is_named_and_an_unreachable_service_is_a_journal_error()
    {
        var client = WithKey(_azurite.NewTableAddress());
        var missing = await Assert.ThrowsAsync<SegmindJournalException>(() => client.GetAsync("row", "r1", CancellationToken.None));
        Assert.Equal("TableNotFound", missing.StorageErrorCode);

        // A port nothing listens on: bounded retries, then one error (no delay between attempts in the test).
        var closed = new TableStorageClient(
            TableAddress.Parse("http://127.0.0.1:9/devstoreaccount1/nothing", "JournalPath"),
            TableCredential.Parse("UseDevelopmentStorage=true", "JournalCredential"),
            delay: (_, _) => Task.CompletedTask);
        var error = await Assert.ThrowsAsync<SegmindJournalException>(() => closed.GetAsync("row", "r1", CancellationToken.None));
        Assert.Equal("JournalError", error.ErrorId);
    }

    private static void AssertNoSecret(Exception error, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, (error as SegmindException)?.ServerMessage ?? string.Empty, StringComparison.Ordinal);
        }
    }
}

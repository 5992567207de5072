using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// A batch journal kept in an Azure table, safe across processes and machines. Records are the file journal's
    /// (same lines, same reader); what differs is where they live: one entity per row identity holds that row's
    /// records, and every change of an entity is conditional on its ETag.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Claims.</b> A row is claimed by inserting its entity (a conflict means another run was first) or by
    /// replacing it at the ETag just read. A <c>claimed</c> or <c>submitting</c> record is written only while this
    /// journal still holds the row, so a run whose claim was taken over never sends: its write fails first. A claim is
    /// respected while its holder lives (<see cref="TableJournalHolder"/>); nothing was sent for a claim, so one left
    /// by a dead holder is simply claimed again.
    /// </para>
    /// <para>
    /// <b>Atomic decisions.</b> <see cref="Atomically{T}"/> runs a read-decide-write body optimistically: each write
    /// inside is conditional on the entity as the body read it, and the whole body runs again when another writer got
    /// there first.
    /// </para>
    /// <para>
    /// <b>Entities.</b> Partition <c>row</c>: one per row (<c>Row</c>, <c>Kind</c> of the last record, <c>RequestId</c>,
    /// <c>Holder</c>, <c>Records</c>: the row's record lines). Partition <c>job</c>: records of jobs followed without a
    /// row. Partition <c>holder</c>: one per open journal (the heartbeat). The credential is never written.
    /// </para>
    /// </remarks>
    internal sealed partial class TableJournalStore : IDisposable
    {
        private const int MaxRecordsLength = 30000;
        private const int MaxWriteAttempts = 12;
        private const int MaxTransactionAttempts = 25;

        private readonly TableStorageClient _client;
        private readonly TableJournalOptions _options;
        private readonly ConcurrentDictionary<string, TableEntity> _known = new ConcurrentDictionary<string, TableEntity>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _rowOfRequest = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly object _transactionLock = new object();
        private readonly Random _jitter = new Random();
        private Transaction? _transaction;
        private Timer? _heartbeat;
        private int _disposed;
        private bool _readOnly;

        private TableJournalStore(TableStorageClient client, TableJournalOptions options)
        {
            _client = client;
            _options = options;
            HolderId = Guid.NewGuid().ToString("N");
        }

        /// <summary>This open journal's id, written into the rows it claims.</summary>
        public string HolderId { get; }

        /// <summary>The table's address (never with a credential), for messages.</summary>
        public string Description => _client.Address.ToString();

        /// <summary>
        /// Opens the journal: creates the table when it is missing (when the credential may), then writes, updates and
        /// reads this journal's holder entity, so a credential without read, add and update rights fails here, before
        /// anything is submitted.
        /// </summary>
        public static TableJournalStore Open(TableAddress address, TableCredential credential, TableJournalOptions? options = null)
        {
            credential.EnsureMatches(address, "JournalCredential");
            var store = new TableJournalStore(new TableStorageClient(address, credential), options ?? new TableJournalOptions());
            store.Run(store.ProbeAsync);
            store._heartbeat = new Timer(_ => store.Beat(), null, store._options.HeartbeatInterval, store._options.HeartbeatInterval);
            return store;
        }

        /// <summary>Opens the journal only to read it (a view such as the gallery): no holder, no writes; read rights suffice.</summary>
        public static TableJournalStore OpenForReading(TableAddress address, TableCredential credential)
        {
            credential.EnsureMatches(address, "JournalCredential");
            var store = new TableJournalStore(new TableStorageClient(address, credential), new TableJournalOptions()) { _readOnly = true };

            // Reading one entity (missing or not) proves the table exists and may be read.
            store.Run(token => store._client.GetAsync(TableJournalKeys.HolderPartition, store.HolderId, token));
            return store;
        }

        internal static TableJournalStore OpenWith(TableStorageClient client, TableJournalOptions options)
        {
            var store = new TableJournalStore(client, options);
            store.Run(store.ProbeAsync);
            store._heartbeat = new Timer(_ => store.Beat(), null, options.HeartbeatInterval, options.HeartbeatInterval);
            return store;
        }

        public JournalRow? Find(string rowId)
        {
            var transaction = CurrentTransaction();
            return Run(async token =>
            {
                var key = TableJournalKeys.For(rowId);
                var entity = await ReadAsync(TableJournalKeys.RowPartition, key, token).ConfigureAwait(false);

                // Inside Atomically, the body's writes to this row are conditional on exactly what it read here.
                if (transaction != null)
                {
                    transaction.Read[TableJournalKeys.RowPartition + "|" + key] = entity;
                }

                return entity is null ? null : (await BuildAsync(new[] { entity }, token).ConfigureAwait(false)).Find(rowId);
            });
        }

        public JournalRow? FindByRequestId(string requestId) => Run(async token =>
        {
            var entity = await EntityOfRequestAsync(requestId, token).ConfigureAwait(false);
            return entity is null ? null : (await BuildAsync(new[] { entity }, token).ConfigureAwait(false)).FindByRequestId(requestId);
        });

        /// <summary>Every row and followed job: one query per partition.</summary>
        public JournalState ReadState() => Run(async token =>
        {
            var rows = await _client.QueryAsync("PartitionKey eq " + TableStorageClient.Literal(TableJournalKeys.RowPartition), token).ConfigureAwait(false);
            var jobs = await _client.QueryAsync("PartitionKey eq " + TableStorageClient.Literal(TableJournalKeys.JobPartition), token).ConfigureAwait(false);
            return await BuildAsync(rows.Concat(jobs).ToList(), token).ConfigureAwait(false);
        });

        /// <summary>
        /// Runs <paramref name="body"/> (reads with <see cref="Find"/>, then writes) as one step: its writes apply only
        /// if nobody changed what it read, else it runs again with fresh reads. The body must not send anything.
        /// </summary>
        public T Atomically<T>(Func<T> body)
        {
            lock (_transactionLock)
            {
                for (var attempt = 1; ; attempt++)
                {
                    _transaction = new Transaction(Environment.CurrentManagedThreadId);
                    try
                    {
                        return body();
                    }
                    catch (TransactionConflictException) when (attempt < MaxTransactionAttempts)
                    {
                        // Another writer changed a row this body read: decide again on what is there now (after a
                        // wall-time jitter: the other writer is another process on the real table).
                        Thread.Sleep(_jitter.Next(5, 50 * Math.Min(attempt, 10)));
                    }
                    catch (TransactionConflictException)
                    {
                        throw new SegmindJournalException($"The journal {Description} kept changing under this run's writes ({MaxTransactionAttempts} attempts); try again.");
                    }
                    finally
                    {
                        _transaction = null;
                    }
                }
            }
        }

        /// <summary>
        /// Adds one record (a line as <see cref="BatchJournal"/> formats it) to its row's entity, or, with no row, to
        /// the entity of the row that owns <paramref name="requestId"/> (or of the job alone).
        /// </summary>
        public void Append(string kind, string? rowId, string? requestId, byte[] line)
        {
            if (_readOnly)
            {
                throw new InvalidOperationException("The journal " + Description + " was opened for reading only.");
            }

            var transaction = CurrentTransaction();
            Run(async token => await AppendAsync(transaction, kind, rowId, requestId, line, token).ConfigureAwait(false));
        }

        private async Task<bool> AppendAsync(Transaction? transaction, string kind, string? rowId, string? requestId, byte[] line, CancellationToken token)
        {
            var text = Encoding.UTF8.GetString(line).Trim('\n', '\r');
            string partition;
            string key;
            if (rowId != null)
            {
                partition = TableJournalKeys.RowPartition;
                key = TableJournalKeys.For(rowId);
            }
            else
            {
                var owner = requestId is null ? null : await EntityOfRequestAsync(requestId, token).ConfigureAwait(false);
                partition = owner?.PartitionKey ?? TableJournalKeys.JobPartition;
                key = owner?.RowKey ?? TableJournalKeys.For(requestId ?? throw new ArgumentException("A record needs a row or a request id.", nameof(requestId)));
            }

            if (transaction != null)
            {
                await AppendInTransactionAsync(transaction, partition, key, kind, rowId, requestId, text, token).ConfigureAwait(false);
            }
            else if (kind == JournalRecordKinds.Claimed || kind == JournalRecordKinds.Submitting)
            {
                await AppendWhileHoldingAsync(partition, key, kind, rowId, requestId, text, token).ConfigureAwait(false);
            }
            else if (kind == JournalRecordKinds.NotSubmitted)
            {
                await ReleaseIfHoldingAsync(partition, key, kind, rowId, requestId, text, token).ConfigureAwait(false);
            }
            else
            {
                await AppendAnywayAsync(partition, key, kind, rowId, requestId, text, token).ConfigureAwait(false);
            }

            if (requestId != null)
            {
                _rowOfRequest[requestId] = partition + "|" + key;
            }

            return true;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            _heartbeat?.Dispose();
            if (_readOnly)
            {
                return;
            }

            try
            {
                // Claims this journal never resolved become void at once for every other run.
                Run(token => _client.TryReplaceAsync(TableJournalHolder.Describe(HolderId, ended: true, _options.Lease), "*", token));
            }
            catch (SegmindJournalException)
            {
                // Best effort: without it, the claims lapse when the lease runs out.
            }
        }

        private async Task<bool> ProbeAsync(CancellationToken token)
        {
            var holder = TableJournalHolder.Describe(HolderId, ended: false, _options.Lease);
            try
            {
                await _client.TryInsertAsync(holder, token).ConfigureAwait(false);
            }
            catch (SegmindJournalException error) when (error.StorageErrorCode == "TableNotFound")
            {
                try
                {
                    await _client.CreateTableAsync(token).ConfigureAwait(false);
                }
                catch (SegmindJournalAccessException)
                {
                    throw new SegmindJournalAccessException(
                        $"The journal table {Description} does not exist, and the credential may not create it: create the table, or give a credential that may.",
                        403);
                }

                await _client.TryInsertAsync(holder, token).ConfigureAwait(false);
            }

            // Update and read rights, checked now rather than on the first row.
            await _client.TryReplaceAsync(holder, "*", token).ConfigureAwait(false);
            if (await _client.GetAsync(holder.PartitionKey, holder.RowKey, token).ConfigureAwait(false) is null)
            {
                throw new SegmindJournalException($"The journal table {Description} did not keep a written entity.");
            }

            return true;
        }

        private void Beat()
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            try
            {
                Run(token => _client.TryReplaceAsync(TableJournalHolder.Describe(HolderId, ended: false, _options.Lease), "*", token));
            }
            catch (Exception error) when (error is SegmindException || error is OperationCanceledException)
            {
                // A missed beat only shortens the lease others see; the next one may get through.
            }
        }

        private async Task<TableEntity?> ReadAsync(string partition, string key, CancellationToken token)
        {
            var entity = await _client.GetAsync(partition, key, token).ConfigureAwait(false);
            var id = partition + "|" + key;
            if (entity is null)
            {
                _known.TryRemove(id, out _);
            }
            else
            {
                _known[id] = entity;
            }

            return entity;
        }

        private async Task<TableEntity?> EntityOfRequestAsync(string requestId, CancellationToken token)
        {
            if (_rowOfRequest.TryGetValue(requestId, out var known))
            {
                var parts = known.Split('|');
                var cached = await ReadAsync(parts[0], parts[1], token).ConfigureAwait(false);
                if (cached != null && cached.GetString("RequestId") == requestId)
                {
                    return cached;
                }
            }

            var owners = await _client.QueryAsync(
                "PartitionKey eq " + TableStorageClient.Literal(TableJournalKeys.RowPartition) + " and RequestId eq " + TableStorageClient.Literal(requestId),
                token).ConfigureAwait(false);
            var owner = owners.FirstOrDefault() ?? await ReadAsync(TableJournalKeys.JobPartition, TableJournalKeys.For(requestId), token).ConfigureAwait(false);
            if (owner != null)
            {
                _rowOfRequest[requestId] = owner.PartitionKey + "|" + owner.RowKey;
            }

            return owner;
        }

        /// <summary>Row states from entities: their records, read by the file journal's reader, minus void claims.</summary>
        private async Task<JournalState> BuildAsync(IReadOnlyList<TableEntity> entities, CancellationToken token)
        {
            var builder = new JournalStateBuilder();
            foreach (var line in await RecordLinesAsync(entities, token).ConfigureAwait(false))
            {
                builder.ApplyLine(new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(line)));
            }

            return builder.Snapshot();
        }

        /// <summary>
        /// Every record of the journal as lines, as a file journal would hold them: rows in the order they were first
        /// journaled, each row's records in order, then records of jobs followed without a row.
        /// </summary>
        public IReadOnlyList<string> ReadRecordLines() => Run(async token =>
        {
            var rows = await _client.QueryAsync("PartitionKey eq " + TableStorageClient.Literal(TableJournalKeys.RowPartition), token).ConfigureAwait(false);
            var jobs = await _client.QueryAsync("PartitionKey eq " + TableStorageClient.Literal(TableJournalKeys.JobPartition), token).ConfigureAwait(false);
            var ordered = rows.OrderBy(e => FirstRecordAt(e)).Concat(jobs.OrderBy(e => FirstRecordAt(e))).ToList();
            return await RecordLinesAsync(ordered, token).ConfigureAwait(false);
        });

        /// <summary>The entities' record lines, minus void claims (and the last line of a row on the wire in a live run).</summary>
        private async Task<IReadOnlyList<string>> RecordLinesAsync(IReadOnlyList<TableEntity> entities, CancellationToken token)
        {
            var all = new List<string>();

            // One look-up per holder, however many rows it holds.
            var alive = new Dictionary<string, bool>(StringComparer.Ordinal);
            async Task<bool> HolderAlive(string? holder)
            {
                if (holder is null)
                {
                    return false;
                }

                if (!alive.TryGetValue(holder, out var known))
                {
                    known = await HolderAliveAsync(holder, token).ConfigureAwait(false);
                    alive[holder] = known;
                }

                return known;
            }

            foreach (var entity in entities.OrderBy(e => e.PartitionKey == TableJournalKeys.RowPartition ? 0 : 1)) // stable: keeps the given order within each
            {
                var kind = entity.GetString("Kind");
                var holder = entity.GetString("Holder");
                var lines = (entity.GetString("Records") ?? string.Empty).Split('\n').ToList();
                if (holder != null && holder != HolderId && !await HolderAlive(holder).ConfigureAwait(false))
                {
                    // A claim whose holder is gone counts for nothing: a row only claimed reads as it stood before
                    // (nothing was sent), and a row left on the wire reads as unknown, never as held by that run.
                    lines.RemoveAll(line => KindOf(line) == JournalRecordKinds.Claimed);
                }
                else if (kind == JournalRecordKinds.Submitting && holder != HolderId && await HolderAlive(holder).ConfigureAwait(false))
                {
                    // On the wire in a live run: that run records the answer, so the row is held there, not unknown.
                    lines.RemoveAt(lines.Count - 1);
                }

                all.AddRange(lines.Where(line => line.Length > 0));
            }

            return all;
        }

        private static string FirstRecordAt(TableEntity entity)
        {
            // Each record starts {"v":1,"kind":...,"at":"<UTC, fixed width>": the first one's time sorts as text.
            var records = entity.GetString("Records") ?? string.Empty;
            var at = records.IndexOf("\"at\":\"", StringComparison.Ordinal);
            return at < 0 ? string.Empty : records.Substring(at + 6, Math.Min(28, records.Length - at - 6));
        }

        private async Task<bool> HeldByMeOrNobodyAsync(TableEntity current, CancellationToken token)
        {
            var holder = current.GetString("Holder");
            if (holder is null || holder == HolderId)
            {
                return true;
            }

            // Held by another run: respected while it lives and has not moved on (a submitting row is never free).
            return current.GetString("Kind") == JournalRecordKinds.Claimed && !await HolderAliveAsync(holder, token).ConfigureAwait(false);
        }

        private async Task<bool> HolderAliveAsync(string? holderId, CancellationToken token)
        {
            if (string.IsNullOrEmpty(holderId))
            {
                return false;
            }

            if (holderId == HolderId)
            {
                return Volatile.Read(ref _disposed) == 0;
            }

            var holder = await _client.GetAsync(TableJournalKeys.HolderPartition, holderId!, token).ConfigureAwait(false);
            return TableJournalHolder.IsAlive(holder, _client.ServerNow, _options.Lease);
        }

        /// <summary>The transaction this thread is inside (<see cref="Atomically{T}"/>), if any.</summary>
        private Transaction? CurrentTransaction()
        {
            var transaction = _transaction;
            return transaction != null && transaction.ThreadId == Environment.CurrentManagedThreadId ? transaction : null;
        }

        private static bool IsClaimKind(string kind) => kind == JournalRecordKinds.Claimed || kind == JournalRecordKinds.Submitting;

        private static string? KindOf(string line)
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String
                    ? kind.GetString()
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>Runs one journal operation to completion on the thread pool (callers are synchronous, like the file journal's).</summary>
        private T Run<T>(Func<CancellationToken, Task<T>> operation)
        {
            using var timeout = new CancellationTokenSource(_options.OperationTimeout);
            try
            {
                return Task.Run(() => operation(timeout.Token)).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new SegmindJournalException($"The journal {Description} did not answer within {_options.OperationTimeout.TotalSeconds:0} seconds.");
            }
        }

        private sealed class Transaction
        {
            public Transaction(int threadId)
            {
                ThreadId = threadId;
            }

            public int ThreadId { get; }

            public Dictionary<string, TableEntity?> Read { get; } = new Dictionary<string, TableEntity?>(StringComparer.Ordinal);
        }

        private sealed class TransactionConflictException : Exception
        {
        }
    }
}

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.TableStorage
{
    /// <summary>How a table journal writes a record: in a transaction, while holding the row, or whatever the row's state.</summary>
    internal sealed partial class TableJournalStore
    {
        private async Task AppendInTransactionAsync(Transaction transaction, string partition, string key, string kind, string? rowId, string? requestId, string line, CancellationToken token)
        {
            var id = partition + "|" + key;
            if (!transaction.Read.TryGetValue(id, out var current))
            {
                current = await ReadAsync(partition, key, token).ConfigureAwait(false);
                transaction.Read[id] = current;
            }

            if (IsClaimKind(kind) && current != null && !await HeldByMeOrNobodyAsync(current, token).ConfigureAwait(false))
            {
                throw new SegmindRowClaimedException($"Row '{rowId}' is being submitted by another run; it is not sent by this one.");
            }

            var next = Compose(current, partition, key, kind, rowId, requestId, line);
            if (!await TryWriteAsync(current, next, token).ConfigureAwait(false))
            {
                throw new TransactionConflictException();
            }

            transaction.Read[id] = next;
        }

        /// <summary>A claim or submitting record: written only while this run holds the row, or claims it free (by insert, or at the ETag read).</summary>
        private async Task AppendWhileHoldingAsync(string partition, string key, string kind, string? rowId, string? requestId, string line, CancellationToken token)
        {
            _known.TryGetValue(partition + "|" + key, out var current);
            if (current is null || current.GetString("Holder") != HolderId)
            {
                current = await ReadAsync(partition, key, token).ConfigureAwait(false);
            }

            if (current != null && current.GetString("Holder") != HolderId)
            {
                // Not claimed by this run beforehand: claim it now, if it is free.
                var row = rowId is null ? null : (await BuildAsync(new[] { current }, token).ConfigureAwait(false)).Find(rowId);
                if (!await HeldByMeOrNobodyAsync(current, token).ConfigureAwait(false) || (row != null && !row.MaySubmit))
                {
                    throw new SegmindRowClaimedException($"Row '{rowId}' is held by another run, or was submitted by one; it is not sent by this one.");
                }
            }

            var next = Compose(current, partition, key, kind, rowId, requestId, line);
            if (!await TryWriteAsync(current, next, token).ConfigureAwait(false))
            {
                throw new SegmindRowClaimedException($"Row '{rowId}' was taken over by another run; it is not sent by this one.");
            }
        }

        /// <summary>
        /// "Not submitted" gives this run's claim back. A row another run has taken over since is that run's: writing
        /// over its claim (or its submit on the wire) would free the row for a third run, so nothing is written then.
        /// </summary>
        private async Task ReleaseIfHoldingAsync(string partition, string key, string kind, string? rowId, string? requestId, string line, CancellationToken token)
        {
            _known.TryGetValue(partition + "|" + key, out var current);
            for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
            {
                if (current is null || current.GetString("Holder") != HolderId)
                {
                    return;
                }

                if (await TryWriteAsync(current, Compose(current, partition, key, kind, rowId, requestId, line), token).ConfigureAwait(false))
                {
                    return;
                }

                current = await ReadAsync(partition, key, token).ConfigureAwait(false);
            }
        }

        private async Task AppendAnywayAsync(string partition, string key, string kind, string? rowId, string? requestId, string line, CancellationToken token)
        {
            _known.TryGetValue(partition + "|" + key, out var current);
            for (var attempt = 1; attempt <= MaxWriteAttempts; attempt++)
            {
                var next = Compose(current, partition, key, kind, rowId, requestId, line);
                if (await TryWriteAsync(current, next, token).ConfigureAwait(false))
                {
                    return;
                }

                current = await ReadAsync(partition, key, token).ConfigureAwait(false);
            }

            throw new SegmindJournalException($"Could not record '{kind}' for {(rowId != null ? "row '" + rowId + "'" : "job " + requestId)} in the journal {Description}: the entity kept changing.");
        }

        /// <summary>Inserts (no current entity) or replaces at the current ETag; false when someone else wrote first.</summary>
        private async Task<bool> TryWriteAsync(TableEntity? current, TableEntity next, CancellationToken token)
        {
            var id = next.PartitionKey + "|" + next.RowKey;
            var etag = current is null
                ? await _client.TryInsertAsync(next, token).ConfigureAwait(false)
                : await _client.TryReplaceAsync(next, current.ETag!, token).ConfigureAwait(false);
            if (etag is null)
            {
                // A retried write whose first attempt landed reads as a conflict: recognise our own write by its id.
                var now = await _client.GetAsync(next.PartitionKey, next.RowKey, token).ConfigureAwait(false);
                if (now is null || now.GetString("WriteId") != next.GetString("WriteId"))
                {
                    return false;
                }

                next = now;
            }

            _known[id] = next;
            return true;
        }

        private TableEntity Compose(TableEntity? current, string partition, string key, string kind, string? rowId, string? requestId, string line)
        {
            var records = current?.GetString("Records");
            var next = new TableEntity(partition, key)
            {
                ["Row"] = rowId ?? current?.GetString("Row"),
                ["Kind"] = kind,
                ["RequestId"] = requestId ?? (kind == JournalRecordKinds.Submitted || kind == JournalRecordKinds.Completed || kind == JournalRecordKinds.Failed || kind == JournalRecordKinds.Saved ? current?.GetString("RequestId") : null),
                ["Holder"] = IsClaimKind(kind) ? HolderId : null,
                ["WriteId"] = Guid.NewGuid().ToString("N"),
                ["Records"] = Compact(string.IsNullOrEmpty(records) ? line : records + "\n" + line),
                ["Version"] = BatchJournal.FormatVersion,
            };
            return next;
        }

        /// <summary>
        /// Keeps a row's records under the property size limit: drops the oldest record of a kind that occurs again
        /// later (the latest of each kind is what the reader needs), then the oldest at all.
        /// </summary>
        private static string Compact(string records)
        {
            if (records.Length <= MaxRecordsLength)
            {
                return records;
            }

            var lines = records.Split('\n').ToList();
            var kinds = lines.Select(KindOf).ToList();
            for (var i = 0; i < lines.Count && lines.Sum(l => l.Length + 1) > MaxRecordsLength; i++)
            {
                if (kinds.Skip(i + 1).Contains(kinds[i]))
                {
                    lines.RemoveAt(i);
                    kinds.RemoveAt(i);
                    i--;
                }
            }

            while (lines.Count > 1 && lines.Sum(l => l.Length + 1) > MaxRecordsLength)
            {
                lines.RemoveAt(0);
            }

            return string.Join("\n", lines);
        }
    }
}

using System;
using System.Collections.Generic;
using System.Text.Json;

namespace Segmind.Client
{
    /// <summary>Folds journal lines into row states, one line at a time, so a journal is read once and then only its new lines.</summary>
    internal sealed class JournalStateBuilder
    {
        private readonly Dictionary<string, JournalRow> _rows = new Dictionary<string, JournalRow>(StringComparer.Ordinal);

        // Request id -> the row it belongs to (row id), or a row of its own for jobs journaled without one.
        private readonly Dictionary<string, string> _rowOfRequest = new Dictionary<string, string>(StringComparer.Ordinal);
        private readonly Dictionary<string, JournalRow> _orphans = new Dictionary<string, JournalRow>(StringComparer.Ordinal);

        private static readonly JsonDocumentOptions ParseOptions = new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = false };

        public long RecordCount { get; private set; }

        public long SkippedLineCount { get; private set; }

        /// <summary>Applies one complete line (without its newline). Anything unreadable is counted and ignored.</summary>
        public void ApplyLine(ReadOnlyMemory<byte> line)
        {
            var span = line.Span;

            // Tolerate hand edits: a byte order mark, Windows line ends, blank lines.
            if (span.Length >= 3 && span[0] == 0xEF && span[1] == 0xBB && span[2] == 0xBF)
            {
                line = line.Slice(3);
            }

            while (line.Length > 0 && (line.Span[line.Length - 1] == (byte)'\r' || line.Span[line.Length - 1] == (byte)' '))
            {
                line = line.Slice(0, line.Length - 1);
            }

            if (line.Length == 0)
            {
                return;
            }

            try
            {
                using var document = JsonDocument.Parse(line, ParseOptions);
                if (document.RootElement.ValueKind != JsonValueKind.Object || !Apply(document.RootElement))
                {
                    SkippedLineCount++;
                    return;
                }

                RecordCount++;
            }
            catch (JsonException)
            {
                SkippedLineCount++;
            }
        }

        public JournalRow? Find(string rowId) => rowId != null && _rows.TryGetValue(rowId, out var row) ? row : null;

        public JournalRow? FindByRequestId(string requestId)
        {
            if (requestId is null)
            {
                return null;
            }

            if (_rowOfRequest.TryGetValue(requestId, out var rowId) && _rows.TryGetValue(rowId, out var row) && row.RequestId == requestId)
            {
                return row;
            }

            return _orphans.TryGetValue(requestId, out var orphan) ? orphan : null;
        }

        public JournalState Snapshot()
        {
            var byRequest = new Dictionary<string, JournalRow>(_rowOfRequest.Count + _orphans.Count, StringComparer.Ordinal);
            foreach (var pair in _rowOfRequest)
            {
                if (_rows.TryGetValue(pair.Value, out var row) && row.RequestId == pair.Key)
                {
                    byRequest[pair.Key] = row;
                }
            }

            foreach (var pair in _orphans)
            {
                if (!byRequest.ContainsKey(pair.Key))
                {
                    byRequest[pair.Key] = pair.Value;
                }
            }

            return new JournalState(new Dictionary<string, JournalRow>(_rows, StringComparer.Ordinal), byRequest, RecordCount, SkippedLineCount);
        }

        private bool Apply(JsonElement record)
        {
            var kind = JournalJson.GetString(record, "kind");
            var rowId = JournalJson.GetString(record, "row");
            var requestId = JournalJson.GetString(record, "request_id");
            var at = JournalJson.GetInstant(record, "at");
            switch (kind)
            {
                case JournalRecordKinds.Claimed:
                    if (rowId is null)
                    {
                        return false;
                    }

                    var claim = new RowClaim(
                        JournalJson.GetString(record, "owner") ?? string.Empty,
                        (int)(JournalJson.GetInt64(record, "pid") ?? 0),
                        JournalJson.GetInstant(record, "pid_started"),
                        JournalJson.GetString(record, "machine") ?? string.Empty,
                        at);
                    _rows[rowId] = RowFor(rowId).Claimed(claim, at);
                    return true;

                case JournalRecordKinds.Submitting:
                    if (rowId is null)
                    {
                        return false;
                    }

                    _rows[rowId] = RowFor(rowId).Submitting(JournalJson.GetString(record, "fingerprint"), at);
                    return true;

                case JournalRecordKinds.Submitted:
                    if (rowId is null || requestId is null)
                    {
                        return false;
                    }

                    _rows[rowId] = RowFor(rowId).Submitted(
                        requestId,
                        JournalJson.GetUri(record, "status_url"),
                        JournalJson.GetUri(record, "response_url"),
                        JournalJson.GetInstant(record, "submitted_at"),
                        at);
                    _rowOfRequest[requestId] = rowId;
                    return true;

                case JournalRecordKinds.NotSubmitted:
                case JournalRecordKinds.Unknown:
                case JournalRecordKinds.Released:
                    if (rowId is null)
                    {
                        return false;
                    }

                    var phase = kind == JournalRecordKinds.NotSubmitted ? JournalRowPhase.NotSubmitted
                        : kind == JournalRecordKinds.Unknown ? JournalRowPhase.Unknown
                        : JournalRowPhase.Released;
                    _rows[rowId] = RowFor(rowId).WithoutJob(phase, JournalJson.GetString(record, "error") ?? JournalJson.GetString(record, "reason"), at);
                    return true;

                case JournalRecordKinds.Completed:
                case JournalRecordKinds.Failed:
                case JournalRecordKinds.Saved:
                    if (requestId is null)
                    {
                        return false;
                    }

                    ApplyJobRecord(kind, rowId, requestId, record, at);
                    return true;

                default:
                    // A kind from a newer version: skipped, so old and new versions can share a journal.
                    return false;
            }
        }

        private void ApplyJobRecord(string kind, string? rowId, string requestId, JsonElement record, DateTimeOffset? at)
        {
            if (rowId is null && !_rowOfRequest.TryGetValue(requestId, out rowId))
            {
                var orphan = _orphans.TryGetValue(requestId, out var existing) ? existing : new JournalRow(requestId);
                _orphans[requestId] = Fold(orphan, kind, requestId, record, at);
                return;
            }

            var row = RowFor(rowId!);

            // An outcome of an older job of this row (it was released and submitted again) no longer describes the row.
            if (row.RequestId != null && row.RequestId != requestId)
            {
                return;
            }

            _rows[rowId!] = Fold(row, kind, requestId, record, at);
            _rowOfRequest[requestId] = rowId!;
        }

        private static JournalRow Fold(JournalRow row, string kind, string requestId, JsonElement record, DateTimeOffset? at)
        {
            switch (kind)
            {
                case JournalRecordKinds.Completed:
                    return row.Ended(JournalRowPhase.Completed, requestId, JournalJson.GetString(record, "output"), null, JournalJson.GetObject(record, "metrics"), at);
                case JournalRecordKinds.Failed:
                    return row.Ended(JournalRowPhase.Failed, requestId, null, JournalJson.GetString(record, "error"), JournalJson.GetObject(record, "metrics"), at);
                default:
                    return row.Saved(requestId, JournalJson.GetString(record, "path"), JournalJson.GetInt64(record, "length"), at);
            }
        }

        private JournalRow RowFor(string rowId) => _rows.TryGetValue(rowId, out var row) ? row : new JournalRow(rowId);
    }
}

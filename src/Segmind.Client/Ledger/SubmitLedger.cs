using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Segmind.Client
{
    /// <summary>
    /// The per-user, always-on record of every submit Segmind accepted (and every submit whose answer was lost), kept
    /// whether or not a batch journal is used, so no charged request id is ever lost. JSON lines, appended and flushed
    /// one record at a time under a lock file shared by every process (<c>&lt;ledger&gt;.lock</c>); the row's identity
    /// and inputs are written (URLs without their query strings), never the API key.
    /// </summary>
    /// <remarks>
    /// Bounded: once per process, records older than <see cref="Retention"/> (Segmind keeps results an hour after they
    /// complete; a week's margin covers long jobs and late saves) are pruned by rewriting the file under the lock.
    /// See <see cref="LedgerLocation"/> for where it lives and how to turn it off.
    /// </remarks>
    public sealed class SubmitLedger
    {
        /// <summary>An hour of result retention at Segmind plus a week's margin.</summary>
        public static readonly TimeSpan Retention = TimeSpan.FromHours(1) + TimeSpan.FromDays(7);

        private const int FormatVersion = 1;
        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
        private static readonly ConcurrentDictionary<string, object> ProcessLocks = new ConcurrentDictionary<string, object>(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, byte> Pruned = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        // The per-user ledger is shared by every run of the user, whatever clock each batch runs on, and its entries are
        // pruned by age: its times and lock waits are wall time.
        private static readonly TimeProvider LedgerClock = TimeProvider.System;

        private readonly object _lock;
        private readonly Func<DateTimeOffset> _now;

        public SubmitLedger(string path)
            : this(path, null)
        {
        }

        internal SubmitLedger(string path, Func<DateTimeOffset>? now)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new ArgumentException("The ledger path is empty.", nameof(path));
            }

            Path = System.IO.Path.GetFullPath(path);
            _lock = ProcessLocks.GetOrAdd(Path, _ => new object());
            _now = now ?? (() => LedgerClock.GetUtcNow());
        }

        public string Path { get; }

        /// <summary>The user's ledger (see <see cref="LedgerLocation"/>), or null when it is turned off.</summary>
        public static SubmitLedger? OpenDefault()
        {
            var path = LedgerLocation.Resolve();
            return path is null ? null : new SubmitLedger(path);
        }

        /// <summary>Segmind accepted the row's submit: call it before anything else is done with the job.</summary>
        public void RecordAccepted(string rowId, int? row, WanAnimateRequest inputs, SubmittedJob job, string? journalPath)
        {
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            Append("accepted", job.RequestId, writer =>
            {
                WriteRow(writer, rowId, row, journalPath, inputs);
                writer.WriteString("status_url", job.StatusUrl.AbsoluteUri);
                writer.WriteString("response_url", job.ResponseUrl.AbsoluteUri);
                writer.WriteString("submitted_at", JsonLinesFile.Timestamp(job.SubmittedAt));
            });
        }

        /// <summary>
        /// The row's submit was sent and its answer lost (or unusable): the job may exist. <paramref name="requestId"/>
        /// is the request id the answer still showed, if any.
        /// </summary>
        public void RecordUnknown(string rowId, int? row, WanAnimateRequest inputs, string? error, string? journalPath, string? requestId = null)
        {
            Append("unknown", requestId, writer =>
            {
                WriteRow(writer, rowId, row, journalPath, inputs);
                if (error != null)
                {
                    writer.WriteString("error", error);
                }
            });
        }

        /// <summary>How an accepted job ended (completed or failed).</summary>
        public void RecordOutcome(string requestId, bool completed, string? error)
        {
            Append(completed ? "completed" : "failed", requestId, writer =>
            {
                if (error != null)
                {
                    writer.WriteString("error", error);
                }
            });
        }

        /// <summary>An accepted job's output was written to <paramref name="path"/>.</summary>
        public void RecordSaved(string requestId, string path)
        {
            Append("saved", requestId, writer => writer.WriteString("path", path));
        }

        /// <summary>
        /// Segmind no longer knows the job (404 on its status or result): its result expired. Shown as expired unless
        /// its output was already saved; a later completion or save (a 404 that was wrong) takes precedence again.
        /// </summary>
        public void RecordExpired(string requestId)
        {
            Append("expired", requestId, writer => { });
        }

        /// <summary>Every submit in the ledger, oldest first, each with the latest outcome recorded for it.</summary>
        public IReadOnlyList<LedgerEntry> ReadEntries()
        {
            var entries = new List<LedgerEntry>();
            var byRequest = new Dictionary<string, LedgerEntry>(StringComparer.Ordinal);
            foreach (var record in ReadRecords())
            {
                var kind = JournalJson.GetString(record, "kind");
                var requestId = JournalJson.GetString(record, "request_id");
                var at = JournalJson.GetInstant(record, "at") ?? DateTimeOffset.MinValue;
                switch (kind)
                {
                    case "accepted" when requestId != null:
                        if (!byRequest.ContainsKey(requestId))
                        {
                            var accepted = ReadRow(record, at);
                            accepted.RequestId = requestId;
                            accepted.Status = LedgerStatus.Pending;
                            accepted.StatusUrl = JournalJson.GetUri(record, "status_url");
                            accepted.ResponseUrl = JournalJson.GetUri(record, "response_url");
                            accepted.SubmittedAt = JournalJson.GetInstant(record, "submitted_at") ?? at;
                            byRequest[requestId] = accepted;
                            entries.Add(accepted);
                        }

                        break;
                    case "unknown":
                        var unknown = ReadRow(record, at);
                        unknown.Status = LedgerStatus.Unknown;
                        unknown.RequestId = requestId;
                        unknown.Error = JournalJson.GetString(record, "error");
                        entries.Add(unknown);
                        break;
                    case "expired":
                        if (requestId != null && byRequest.TryGetValue(requestId, out var gone)
                            && (gone.Status == LedgerStatus.Pending || gone.Status == LedgerStatus.Completed))
                        {
                            // A saved output is on disk and a failure says more than a 404: only open jobs expire.
                            gone.Status = LedgerStatus.Expired;
                            gone.UpdatedAt = at;
                        }

                        break;
                    case "completed":
                    case "failed":
                    case "saved":
                        if (requestId != null && byRequest.TryGetValue(requestId, out var entry))
                        {
                            // A save is the furthest a job gets; a late "completed" does not undo it.
                            if (entry.Status != LedgerStatus.Saved || kind == "saved")
                            {
                                entry.Status = kind == "completed" ? LedgerStatus.Completed : kind == "failed" ? LedgerStatus.Failed : LedgerStatus.Saved;
                            }

                            entry.UpdatedAt = at;
                            entry.Error = kind == "failed" ? JournalJson.GetString(record, "error") : entry.Error;
                            entry.SavedPath = kind == "saved" ? JournalJson.GetString(record, "path") : entry.SavedPath;
                        }

                        break;
                }
            }

            return entries;
        }

        private IEnumerable<JsonElement> ReadRecords()
        {
            if (!File.Exists(Path))
            {
                yield break;
            }

            PruneOnce();
            string text;
            using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
            {
                text = reader.ReadToEnd();
            }

            foreach (var line in text.Split('\n'))
            {
                var trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] != '{')
                {
                    continue;
                }

                JsonElement record;
                try
                {
                    using (var document = JsonDocument.Parse(trimmed))
                    {
                        record = document.RootElement.Clone();
                    }
                }
                catch (JsonException)
                {
                    // A line torn by a crash.
                    continue;
                }

                yield return record;
            }
        }

        private static LedgerEntry ReadRow(JsonElement record, DateTimeOffset at)
        {
            var entry = new LedgerEntry(at, JournalJson.GetString(record, "row") ?? string.Empty)
            {
                Row = (int?)JournalJson.GetInt64(record, "row_number"),
                JournalPath = JournalJson.GetString(record, "journal"),
            };
            if (record.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Object)
            {
                entry.Inputs = new WanAnimateRequest
                {
                    InputVideo = JournalJson.GetString(inputs, "input_video") ?? string.Empty,
                    ReferenceImage = JournalJson.GetString(inputs, "reference_image") ?? string.Empty,
                    Prompt = JournalJson.GetString(inputs, "prompt") ?? string.Empty,
                    Mode = JournalJson.GetString(inputs, "mode") ?? WanAnimateRequest.DefaultMode,
                    Resolution = JournalJson.GetString(inputs, "resolution") ?? WanAnimateRequest.DefaultResolution,
                    Seed = JournalJson.GetInt64(inputs, "seed") ?? WanAnimateRequest.DefaultSeed,
                    Base64 = JournalJson.GetBoolean(inputs, "base64"),
                };
            }

            return entry;
        }

        private static void WriteRow(Utf8JsonWriter writer, string rowId, int? row, string? journalPath, WanAnimateRequest inputs)
        {
            writer.WriteString("row", rowId ?? string.Empty);
            if (row.HasValue)
            {
                writer.WriteNumber("row_number", row.Value);
            }

            if (journalPath != null)
            {
                writer.WriteString("journal", journalPath);
            }

            if (inputs != null)
            {
                writer.WriteStartObject("inputs");
                writer.WriteString("input_video", BatchJournal.RedactLocation(inputs.InputVideo));
                writer.WriteString("reference_image", BatchJournal.RedactLocation(inputs.ReferenceImage));
                writer.WriteString("prompt", inputs.Prompt);
                writer.WriteString("mode", inputs.Mode);
                writer.WriteString("resolution", inputs.Resolution);
                writer.WriteNumber("seed", inputs.Seed);
                writer.WriteBoolean("base64", inputs.Base64);
                writer.WriteEndObject();
            }
        }

        private void Append(string kind, string? requestId, Action<Utf8JsonWriter> fields)
        {
            var line = JsonLinesFile.FormatRecord(FormatVersion, kind, _now(), writer =>
            {
                if (requestId != null)
                {
                    writer.WriteString("request_id", requestId);
                }

                fields(writer);
            });

            var directory = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            PruneOnce();
            lock (_lock)
            {
                using (JournalFileLock.Acquire(Path + ".lock", LockTimeout, LedgerClock))
                using (var stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None))
                {
                    JsonLinesFile.Append(stream, line);
                }
            }
        }

        /// <summary>Drops records older than <see cref="Retention"/>, once per process, only when the oldest record is that old.</summary>
        private void PruneOnce()
        {
            if (!Pruned.TryAdd(Path, 0) || !File.Exists(Path))
            {
                return;
            }

            var cutoff = _now() - Retention;
            if (!OldestRecordBefore(cutoff))
            {
                return;
            }

            lock (_lock)
            {
                using (JournalFileLock.Acquire(Path + ".lock", LockTimeout, LedgerClock))
                {
                    var kept = new StringBuilder();
                    foreach (var line in File.ReadAllText(Path, Encoding.UTF8).Split('\n'))
                    {
                        var trimmed = line.Trim();
                        if (trimmed.Length > 0 && RecordTime(trimmed) is DateTimeOffset at && at >= cutoff)
                        {
                            kept.Append(trimmed).Append('\n');
                        }
                    }

                    var temporary = Path + "." + Guid.NewGuid().ToString("N") + ".tmp";
                    using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                    {
                        var bytes = new UTF8Encoding(false).GetBytes(kept.ToString());
                        stream.Write(bytes, 0, bytes.Length);
                        stream.Flush(flushToDisk: true);
                    }

                    File.Replace(temporary, Path, null);
                }
            }
        }

        private bool OldestRecordBefore(DateTimeOffset cutoff)
        {
            using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false)))
            {
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    if (line.Trim().Length > 0)
                    {
                        return !(RecordTime(line.Trim()) is DateTimeOffset at) || at < cutoff;
                    }
                }
            }

            return false;
        }

        private static DateTimeOffset? RecordTime(string line)
        {
            try
            {
                using (var document = JsonDocument.Parse(line))
                {
                    return document.RootElement.ValueKind == JsonValueKind.Object ? JournalJson.GetInstant(document.RootElement, "at") : null;
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using Segmind.Client.Json;

namespace Segmind.Client
{
    /// <summary>
    /// A durable, append-only record of a batch: which rows were submitted, under which request ids, how they ended
    /// and where their outputs went. A killed run restarts from it without submitting anything twice and without
    /// losing a request id.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Format.</b> JSON lines: UTF-8, one JSON object per line, each with <c>v</c> (format version), <c>kind</c>
    /// (see <see cref="JournalRecordKinds"/>), <c>at</c> (UTC time) and, as they apply, <c>row</c>, <c>request_id</c>
    /// and the kind's own fields. Readers ignore fields and kinds they do not know, so newer versions can add both.
    /// The file is only ever appended to: never truncated or rewritten. Resolving a row is done by appending a record.
    /// </para>
    /// <para>
    /// <b>The submit protocol</b> (what makes double submits impossible and request ids durable), carried out by
    /// <see cref="JournaledSubmitter"/>:
    /// <list type="number">
    /// <item><see cref="RecordClaimed"/>, under the journal lock and only when the row may be submitted, takes the row
    /// for one run (see <see cref="RowClaim"/>): nothing is sent yet, so a claim whose owner died leaves the row free.</item>
    /// <item><see cref="RecordSubmitting"/> is written and flushed to disk right before the POST goes on the wire (after
    /// the pacing gate and the uploads), never earlier.</item>
    /// <item>Then exactly one of: <see cref="RecordSubmitted"/> (the answer, flushed before the job is handed on),
    /// <see cref="RecordNotSubmitted"/> (refused, or failed before sending: no job exists) or <see cref="RecordUnknown"/>
    /// (sent, answer lost: the job may exist).</item>
    /// </list>
    /// A <c>submitting</c> record with nothing after it means the process died mid-submit: the row reads as
    /// <see cref="JournalRowPhase.Unknown"/>, like an explicit <c>unknown</c>. Unknown rows are never re-sent
    /// automatically; <see cref="JournalRow.ResolutionHint"/> tells the user what to check, and the user resolves the
    /// row with <see cref="RecordAttached"/> (the job exists: follow it) or <see cref="RecordReleased"/> (it does not:
    /// submit again).
    /// </para>
    /// <para>
    /// <b>Row identity</b> (<see cref="RowIdentity"/>): the row's explicit Id when it has one, otherwise a hash of its
    /// normalised inputs. Two identical rows without Id columns are therefore one row, submitted once: add an Id
    /// column to submit the same inputs deliberately more than once.
    /// </para>
    /// <para>
    /// <b>Concurrency and durability.</b> Each record is one write of one complete line, followed by
    /// <c>Flush(true)</c>, under a lock shared by every process (<c>&lt;journal&gt;.lock</c>, opened without sharing)
    /// and every thread. A line torn by a crash is ignored on reading, and the next append starts on a new line.
    /// </para>
    /// <para>
    /// <b>No secrets.</b> The journal never sees the API key. Input URLs are written without their query string or
    /// user information (signed URLs carry credentials there); the row identity is still computed from the full URL.
    /// Base64 outputs are not written, only their length (the <c>saved</c> record says where they went).
    /// </para>
    /// <para>
    /// <b>Submitting rows</b>: use <see cref="JournaledSubmitter"/>, which claims each row, writes <c>submitting</c> at
    /// the last moment and records every answer; it is the only code that carries out this protocol.
    /// </para>
    /// </remarks>
    public sealed class BatchJournal : IDisposable
    {
        /// <summary>The format version written in every record's <c>v</c> field.</summary>
        public const int FormatVersion = 1;

        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

        // Writers of one process queue on this before taking the file lock, so only other processes make them poll for it.
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> ProcessWriteLocks =
            new System.Collections.Concurrent.ConcurrentDictionary<string, object>(StringComparer.Ordinal);

        private readonly object _writeLock;
        private readonly object _readLock = new object();
        private readonly string _lockPath;
        private readonly JournalStateBuilder _builder = new JournalStateBuilder();
        private FileStream? _stream;
        private long _readOffset;
        private int _lockDepth;
        private TimeProvider _time = TimeProvider.System;

        private BatchJournal(string path, bool shareProcessLock)
        {
            Path = path;
            _lockPath = path + ".lock";
            _writeLock = shareProcessLock ? ProcessWriteLocks.GetOrAdd(path, _ => new object()) : new object();
        }

        private BatchJournal(TableStorage.TableJournalStore table)
        {
            Path = table.Description;
            _lockPath = string.Empty;
            _writeLock = new object();
            _table = table;
        }

        // Set when the journal is an Azure table: the same records and protocol, kept in one entity per row.
        private readonly TableStorage.TableJournalStore? _table;

        /// <summary>The journal file's full path, or the journal table's address.</summary>
        public string Path { get; }

        /// <summary>
        /// The clock the file lock's retry pauses and its 30-second bound run on: the real clock unless set. Give it the
        /// client's <see cref="SegmindClientOptions.TimeProvider"/> when the whole run is on a scaled or a test clock.
        /// </summary>
        public TimeProvider TimeProvider
        {
            get => Volatile.Read(ref _time);
            set => Volatile.Write(ref _time, value ?? TimeProvider.System);
        }

        /// <summary>True when <paramref name="pathOrAddress"/> names a journal table (an http or https address) rather than a file.</summary>
        public static bool IsTableAddress(string? pathOrAddress) => TableStorage.TableAddress.IsTableAddress(pathOrAddress);

        /// <summary>
        /// Opens a journal: a file path as <see cref="Open(string)"/>, or an Azure table address
        /// (<c>https://&lt;account&gt;.table.core.windows.net/&lt;table&gt;</c>) with <paramref name="credential"/>, or else the
        /// credential in <c>SEGMIND_JOURNAL_SAS</c> / <c>SEGMIND_JOURNAL_CONNECTION_STRING</c>. A table is created when
        /// missing (if the credential may) and checked for read, add and update rights before this returns.
        /// </summary>
        public static BatchJournal Open(string pathOrAddress, TableStorage.TableCredential? credential)
        {
            if (!IsTableAddress(pathOrAddress))
            {
                return Open(pathOrAddress);
            }

            var address = TableStorage.TableAddress.Parse(pathOrAddress, "JournalPath");
            return new BatchJournal(TableStorage.TableJournalStore.Open(address, RequireCredential(address, credential)));
        }

        /// <summary>
        /// Opens a journal only to read it (a view such as the gallery): a file as <see cref="Open(string)"/>; a table
        /// without writing anything, so a read-only SAS suffices.
        /// </summary>
        public static BatchJournal OpenForReading(string pathOrAddress, TableStorage.TableCredential? credential)
        {
            if (!IsTableAddress(pathOrAddress))
            {
                return Open(pathOrAddress);
            }

            var address = TableStorage.TableAddress.Parse(pathOrAddress, "JournalPath");
            return new BatchJournal(TableStorage.TableJournalStore.OpenForReading(address, RequireCredential(address, credential)));
        }

        private static TableStorage.TableCredential RequireCredential(TableStorage.TableAddress address, TableStorage.TableCredential? credential) =>
            credential ?? TableStorage.TableCredential.FromEnvironment("JournalCredential")
                ?? throw new SegmindValidationException(
                    "JournalCredential",
                    $"The journal table {address} needs a credential: a SAS token or connection string in -JournalCredential, or in ${TableStorage.TableCredential.SasEnvironmentVariable} or ${TableStorage.TableCredential.ConnectionStringEnvironmentVariable}.");

        /// <summary>
        /// Opens the journal at <paramref name="path"/>, creating it (and nothing else) when missing. The folder must
        /// exist. Several processes may open the same journal at once.
        /// </summary>
        public static BatchJournal Open(string path) => Open(path, shareProcessLock: true);

        /// <summary>True when the file could only be opened for reading: its rows can be followed, but every record fails.</summary>
        public bool IsReadOnly { get; private set; }

        /// <summary>
        /// <paramref name="shareProcessLock"/> false makes this object behave like a writer in another process: only
        /// the lock file keeps its appends apart from the others'. Tests use it to exercise that lock.
        /// </summary>
        internal static BatchJournal Open(string path, bool shareProcessLock)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new SegmindValidationException("JournalPath", "The journal path is empty.");
            }

            var fullPath = System.IO.Path.GetFullPath(path);
            var directory = System.IO.Path.GetDirectoryName(fullPath);
            if (directory != null && !Directory.Exists(directory))
            {
                throw new SegmindValidationException("JournalPath", "The journal's folder does not exist: " + directory);
            }

            if (Directory.Exists(fullPath))
            {
                throw new SegmindValidationException(
                    "JournalPath",
                    $"The journal path '{path}' is a folder; give the path of a journal file, for example '{System.IO.Path.Combine(path, "batch.journal")}'.");
            }

            var journal = new BatchJournal(fullPath, shareProcessLock);
            try
            {
                journal._stream = new FileStream(fullPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            }
            catch (UnauthorizedAccessException) when (File.Exists(fullPath))
            {
                // A journal that may only be read (a copy, a finished batch) can still be followed; every write then fails clearly.
                journal._stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
                journal.IsReadOnly = true;
            }

            return journal;
        }

        /// <summary>
        /// The identity of a row: <paramref name="explicitId"/> (trimmed) when given, otherwise <c>auto-</c> and the
        /// first 32 hex digits of <see cref="InputFingerprint"/>. Stable across runs, processes and machines.
        /// </summary>
        public static string RowIdentity(WanAnimateRequest request, string? explicitId)
        {
            if (!string.IsNullOrWhiteSpace(explicitId))
            {
                return explicitId!.Trim();
            }

            return "auto-" + InputFingerprint(request).Substring(0, 32);
        }

        /// <summary>
        /// SHA-256 (64 lower-case hex digits) of the normalised inputs: input_video, reference_image, prompt, mode,
        /// resolution, seed and base64. URLs and the prompt are trimmed (prompt line ends made <c>\n</c>), mode and
        /// resolution lower-cased; a missing mode or resolution counts as its default. Any other difference
        /// (a URL's query, the prompt's wording) is a different input.
        /// </summary>
        public static string InputFingerprint(WanAnimateRequest request)
        {
            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                // A JSON object with a fixed field order: unambiguous, unlike joining fields with a separator.
                writer.WriteStartObject();
                writer.WriteString("input_video", (request.InputVideo ?? string.Empty).Trim());
                writer.WriteString("reference_image", (request.ReferenceImage ?? string.Empty).Trim());
                writer.WriteString("prompt", (request.Prompt ?? string.Empty).Replace("\r\n", "\n").Replace('\r', '\n').Trim());
                writer.WriteString("mode", NormaliseChoice(request.Mode, WanAnimateRequest.DefaultMode));
                writer.WriteString("resolution", NormaliseChoice(request.Resolution, WanAnimateRequest.DefaultResolution));
                writer.WriteNumber("seed", request.Seed);
                writer.WriteBoolean("base64", request.Base64);
                writer.WriteEndObject();
            }

            var hash = RowHasher.ComputeHash(buffer.GetBuffer(), 0, (int)buffer.Length);
            var hex = new char[hash.Length * 2];
            for (var i = 0; i < hash.Length; i++)
            {
                hex[2 * i] = HexDigits[hash[i] >> 4];
                hex[(2 * i) + 1] = HexDigits[hash[i] & 0xF];
            }

            return new string(hex);
        }

        private const string HexDigits = "0123456789abcdef";

        // Every row of a batch is hashed, and creating a SHA-256 object costs far more than hashing a few hundred
        // bytes; one per thread is reused (an instance is not thread-safe, and netstandard2.0 has no SHA256.HashData).
        [ThreadStatic]
        private static SHA256? _rowHasher;

        private static SHA256 RowHasher => _rowHasher ??= SHA256.Create();

        /// <summary>
        /// Every row's state. The first call reads the whole file; later calls read only what was appended since
        /// (by any process). Returns a snapshot: later appends do not change it.
        /// </summary>
        public JournalState ReadState()
        {
            if (_table != null)
            {
                return _table.ReadState();
            }

            lock (_readLock)
            {
                ReadNewLinesLocked();
                return _builder.Snapshot();
            }
        }

        /// <summary>
        /// This row's current state, or null when the journal has nothing about it. Reads only what was appended since
        /// the last read and copies nothing, so it is cheap to call for every row of a batch (it also sees duplicates
        /// of a row earlier in the same run).
        /// </summary>
        public JournalRow? Find(string rowId)
        {
            if (_table != null)
            {
                return _table.Find(rowId);
            }

            lock (_readLock)
            {
                ReadNewLinesLocked();
                return _builder.Find(rowId);
            }
        }

        /// <summary>The state of the row that owns this job (or of the job alone, when it was journaled without a row).</summary>
        public JournalRow? FindByRequestId(string requestId)
        {
            if (_table != null)
            {
                return _table.FindByRequestId(requestId);
            }

            lock (_readLock)
            {
                ReadNewLinesLocked();
                return _builder.FindByRequestId(requestId);
            }
        }

        /// <summary>Every record, one line each, in the order a file journal holds them (read only, for views such as the gallery).</summary>
        internal IReadOnlyList<string> ReadRecordLines()
        {
            if (_table != null)
            {
                return _table.ReadRecordLines();
            }

            var lines = new List<string>();
            using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
            {
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    lines.Add(line);
                }
            }

            return lines;
        }

        private void ReadNewLinesLocked()
        {
            using var reader = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
            if (reader.Length < _readOffset)
            {
                throw new IOException("The journal '" + Path + "' became shorter while open; journals are append-only. Was it replaced or edited?");
            }

            reader.Seek(_readOffset, SeekOrigin.Begin);
            var pending = new MemoryStream();
            var chunk = new byte[64 * 1024];
            int read;
            while ((read = reader.Read(chunk, 0, chunk.Length)) > 0)
            {
                var start = 0;
                for (var i = 0; i < read; i++)
                {
                    if (chunk[i] != (byte)'\n')
                    {
                        continue;
                    }

                    ReadOnlyMemory<byte> line;
                    if (pending.Length > 0)
                    {
                        pending.Write(chunk, start, i - start);
                        line = new ReadOnlyMemory<byte>(pending.ToArray());
                        pending.SetLength(0);
                    }
                    else
                    {
                        line = new ReadOnlyMemory<byte>(chunk, start, i - start);
                    }

                    _builder.ApplyLine(line);
                    _readOffset += line.Length + 1;
                    start = i + 1;
                }

                pending.Write(chunk, start, read - start);
            }

            // Whatever is left has no newline yet: a record being written, or torn by a crash. It stays unread.
        }

        /// <summary>
        /// Runs <paramref name="body"/> holding the journal's lock (every thread and process): reads and appends inside it
        /// are one step, so two runs cannot both decide to claim the same row.
        /// </summary>
        public T Atomically<T>(Func<T> body)
        {
            if (body is null)
            {
                throw new ArgumentNullException(nameof(body));
            }

            if (_table != null)
            {
                // A table has no lock to hold: the body's writes are conditional on what it read, and it runs again on a conflict.
                return _table.Atomically(body);
            }

            lock (_writeLock)
            {
                if (_stream is null)
                {
                    throw new ObjectDisposedException(nameof(BatchJournal));
                }

                using (JournalFileLock.Acquire(_lockPath, LockTimeout, TimeProvider))
                {
                    _lockDepth++;
                    try
                    {
                        return body();
                    }
                    finally
                    {
                        _lockDepth--;
                    }
                }
            }
        }

        /// <summary>Takes the row for <paramref name="claim"/>'s owner (call it inside <see cref="Atomically"/>, after checking the row may be submitted).</summary>
        public void RecordClaimed(string rowId, RowClaim claim)
        {
            RequireRow(rowId);
            if (claim is null)
            {
                throw new ArgumentNullException(nameof(claim));
            }

            Append(JournalRecordKinds.Claimed, rowId, null, writer =>
            {
                writer.WriteString("owner", claim.Owner);
                writer.WriteNumber("pid", claim.ProcessId);
                if (claim.ProcessStartedAt is DateTimeOffset started)
                {
                    writer.WriteString("pid_started", JsonLinesFile.Timestamp(started));
                }

                writer.WriteString("machine", claim.Machine);
            });
        }

        /// <summary>
        /// Step 2 of a submit: call it, and let it return, right before sending the POST. Writes the row, the input
        /// fingerprint and the inputs (URLs without query strings).
        /// </summary>
        public void RecordSubmitting(string rowId, WanAnimateRequest request)
        {
            RequireRow(rowId);
            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            Append(JournalRecordKinds.Submitting, rowId, null, writer =>
            {
                writer.WriteString("fingerprint", InputFingerprint(request));
                writer.WriteStartObject("inputs");
                writer.WriteString("input_video", RedactLocation(request.InputVideo));
                writer.WriteString("reference_image", RedactLocation(request.ReferenceImage));
                writer.WriteString("prompt", request.Prompt);
                writer.WriteString("mode", request.Mode);
                writer.WriteString("resolution", request.Resolution);
                writer.WriteNumber("seed", request.Seed);
                writer.WriteBoolean("base64", request.Base64);
                writer.WriteEndObject();
            });
        }

        /// <summary>Step 3 of a submit that was answered: call it, and let it return, before the job is handed on.</summary>
        public void RecordSubmitted(string rowId, SubmittedJob job)
        {
            RequireRow(rowId);
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            Append(JournalRecordKinds.Submitted, rowId, job.RequestId, writer =>
            {
                writer.WriteString("status_url", job.StatusUrl.AbsoluteUri);
                writer.WriteString("response_url", job.ResponseUrl.AbsoluteUri);
                if (job.PollUrl != null)
                {
                    writer.WriteString("poll_url", job.PollUrl.AbsoluteUri);
                }

                writer.WriteString("submitted_at", JsonLinesFile.Timestamp(job.SubmittedAt));
            });
        }

        /// <summary>
        /// Step 3 of a submit that certainly created no job: refused by validation or by the server (400, 401, 406, 429...),
        /// or an upload failed before the POST. The row may be submitted again.
        /// </summary>
        public void RecordNotSubmitted(string rowId, string? errorId, string? message)
        {
            RequireRow(rowId);
            Append(JournalRecordKinds.NotSubmitted, rowId, null, writer =>
            {
                WriteOptional(writer, "error_id", errorId);
                WriteOptional(writer, "error", message);
            });
        }

        /// <summary>Step 3 of a submit whose answer was lost (<see cref="SegmindSubmitOutcomeUnknownException"/>): the job may exist.</summary>
        public void RecordUnknown(string rowId, string? message)
        {
            RequireRow(rowId);
            Append(JournalRecordKinds.Unknown, rowId, null, writer => WriteOptional(writer, "error", message));
        }

        /// <summary>
        /// The user's resolution of an unknown (or failed) row: no job exists for it, or the user wants it run again.
        /// The next run submits it.
        /// </summary>
        public void RecordReleased(string rowId, string? reason)
        {
            RequireRow(rowId);
            Append(JournalRecordKinds.Released, rowId, null, writer => WriteOptional(writer, "reason", reason));
        }

        /// <summary>
        /// The user's resolution of an unknown row: the job exists (found in the account's history) under this request
        /// id. Written as a <c>submitted</c> record marked <c>attached</c>; the row is followed like any other.
        /// </summary>
        public void RecordAttached(string rowId, JobReference job)
        {
            RequireRow(rowId);
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            Append(JournalRecordKinds.Submitted, rowId, job.RequestId, writer =>
            {
                if (job.StatusUrl != null)
                {
                    writer.WriteString("status_url", job.StatusUrl.AbsoluteUri);
                }

                if (job.ResponseUrl != null)
                {
                    writer.WriteString("response_url", job.ResponseUrl.AbsoluteUri);
                }

                writer.WriteBoolean("attached", true);
            });
        }

        /// <summary>
        /// How a job ended: <c>completed</c> (output URL, metrics) or <c>failed</c> (error, metrics), from the result's
        /// status. <paramref name="rowId"/> may be null when only the request id is known: the journal links it to its
        /// row through the <c>submitted</c> record. A base64 output is not written, only its length.
        /// </summary>
        public void RecordOutcome(string? rowId, JobResult result)
        {
            if (result is null)
            {
                throw new ArgumentNullException(nameof(result));
            }

            if (result.Status == JobState.Failed)
            {
                RecordFailed(rowId, result.RequestId, result.Error, result.Metrics);
                return;
            }

            if (result.Status != JobState.Completed)
            {
                throw new ArgumentException("Only a COMPLETED or FAILED result is an outcome; this one is " + result.Status + ".", nameof(result));
            }

            Append(JournalRecordKinds.Completed, rowId, result.RequestId, writer =>
            {
                writer.WriteString("output_kind", result.OutputKind.ToString().ToLowerInvariant());
                if (result.OutputKind == OutputKind.Base64)
                {
                    writer.WriteNumber("output_length", result.Output!.Length);
                }
                else
                {
                    WriteOptional(writer, "output", result.Output);
                }

                writer.WritePropertyName("metrics");
                MetricsJson.Write(writer, result.Metrics);
            });
        }

        /// <summary>A job that ended FAILED (for example from <see cref="SegmindJobFailedException"/> and the last status's metrics).</summary>
        public void RecordFailed(string? rowId, string requestId, string? error, IReadOnlyDictionary<string, object?>? metrics)
        {
            RequireRequest(requestId);
            Append(JournalRecordKinds.Failed, rowId, requestId, writer =>
            {
                WriteOptional(writer, "error", error);
                if (metrics != null)
                {
                    writer.WritePropertyName("metrics");
                    MetricsJson.Write(writer, metrics);
                }
            });
        }

        /// <summary>The job's output was written to <paramref name="path"/> (<paramref name="length"/> bytes).</summary>
        public void RecordSaved(string? rowId, string requestId, string path, long length)
        {
            RequireRequest(requestId);
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("The saved file's path is empty.", nameof(path));
            }

            Append(JournalRecordKinds.Saved, rowId, requestId, writer =>
            {
                writer.WriteString("path", path);
                writer.WriteNumber("length", length);
            });
        }

        public void Dispose()
        {
            _table?.Dispose();
            lock (_writeLock)
            {
                _stream?.Dispose();
                _stream = null;
            }
        }

        /// <summary>A URL without its query string or user information; anything else (a local path) as given.</summary>
        internal static string RedactLocation(string? location)
        {
            if (string.IsNullOrEmpty(location))
            {
                return string.Empty;
            }

            var trimmed = location!.Trim();
            if (!Http.UriRules.TryParseHttp(trimmed, out var uri))
            {
                return trimmed;
            }

            var redacted = uri.Scheme + "://" + uri.Authority + uri.AbsolutePath;
            return string.IsNullOrEmpty(uri.Query) ? redacted : redacted + "?<redacted>";
        }

        private static void RequireRow(string rowId)
        {
            if (string.IsNullOrWhiteSpace(rowId))
            {
                throw new ArgumentException("The row id is empty.", nameof(rowId));
            }
        }

        private static void RequireRequest(string requestId)
        {
            if (string.IsNullOrWhiteSpace(requestId))
            {
                throw new ArgumentException("The request id is empty.", nameof(requestId));
            }
        }

        private static string NormaliseChoice(string? value, string defaultValue) =>
            string.IsNullOrWhiteSpace(value) ? defaultValue : value!.Trim().ToLowerInvariant();

        private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
        {
            if (value != null)
            {
                writer.WriteString(name, value);
            }
        }

        /// <summary>
        /// One record as a line: a leading newline (kept only when the file ends in a torn line), the JSON object, and
        /// the closing newline. Every journal store keeps records in this one format.
        /// </summary>
        internal static byte[] FormatRecord(string kind, string? rowId, string? requestId, Action<Utf8JsonWriter> fields) =>
            // Wall time: records are read by people and by other runs, each on its own clock.
            JsonLinesFile.FormatRecord(FormatVersion, kind, DateTimeOffset.UtcNow, writer =>
            {
                WriteOptional(writer, "row", rowId);
                WriteOptional(writer, "request_id", requestId);
                fields(writer);
            });

        private void Append(string kind, string? rowId, string? requestId, Action<Utf8JsonWriter> fields)
        {
            var line = FormatRecord(kind, rowId, requestId, fields);
            if (_table != null)
            {
                _table.Append(kind, rowId, requestId, line);
                return;
            }

            if (IsReadOnly)
            {
                throw new UnauthorizedAccessException($"The journal '{Path}' is read-only: it can be read but nothing can be recorded in it.");
            }

            lock (_writeLock)
            {
                var stream = _stream ?? throw new ObjectDisposedException(nameof(BatchJournal));
                using (_lockDepth > 0 ? null : JournalFileLock.Acquire(_lockPath, LockTimeout, TimeProvider))
                {
                    JsonLinesFile.Append(stream, line);
                }
            }
        }
    }
}

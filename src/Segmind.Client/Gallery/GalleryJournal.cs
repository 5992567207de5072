using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Segmind.Client.Gallery
{
    /// <summary>
    /// A batch journal as gallery rows: each row's last state, the inputs of its last submit and when its job
    /// ended. Reads the file only (shared with running writers), never creating or locking it.
    /// </summary>
    public static class GalleryJournal
    {
        public static IReadOnlyList<GalleryItem> Read(string path)
        {
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("The journal path is empty.", nameof(path));
            }

            var lines = new List<string>();
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true))
            {
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    lines.Add(line);
                }
            }

            return FromLines(lines);
        }

        /// <summary>An open journal (a file, or an Azure table) as gallery rows.</summary>
        public static IReadOnlyList<GalleryItem> Read(BatchJournal journal)
        {
            if (journal is null)
            {
                throw new ArgumentNullException(nameof(journal));
            }

            return FromLines(journal.ReadRecordLines());
        }

        private static IReadOnlyList<GalleryItem> FromLines(IEnumerable<string> lines)
        {
            var builder = new JournalStateBuilder();
            var inputs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            var endedAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var order = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in lines)
            {
                var bytes = Encoding.UTF8.GetBytes(line);
                builder.ApplyLine(bytes);
                Note(bytes, inputs, endedAt, order, seen);
            }

            var state = builder.Snapshot();
            var items = new List<GalleryItem>();
            foreach (var rowId in order)
            {
                var row = state.Find(rowId);
                if (row != null)
                {
                    items.Add(ToItem(row, inputs.TryGetValue(rowId, out var given) ? given : (JsonElement?)null, endedAt));
                }
            }

            return items;
        }

        // The state builder keeps phases, not inputs or end times: those are picked up here, line by line.
        private static void Note(byte[] line, Dictionary<string, JsonElement> inputs, Dictionary<string, DateTimeOffset> endedAt, List<string> order, HashSet<string> seen)
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var record = document.RootElement;
                if (record.ValueKind != JsonValueKind.Object)
                {
                    return;
                }

                var kind = JournalJson.GetString(record, "kind");
                var rowId = JournalJson.GetString(record, "row");
                var requestId = JournalJson.GetString(record, "request_id");
                if (rowId != null && seen.Add(rowId))
                {
                    order.Add(rowId);
                }

                if (kind == JournalRecordKinds.Submitting && rowId != null && record.TryGetProperty("inputs", out var given) && given.ValueKind == JsonValueKind.Object)
                {
                    inputs[rowId] = given.Clone();
                }
                else if ((kind == JournalRecordKinds.Completed || kind == JournalRecordKinds.Failed) && requestId != null)
                {
                    var at = JournalJson.GetInstant(record, "at");
                    if (at.HasValue)
                    {
                        endedAt[requestId] = at.Value;
                    }
                }
            }
            catch (JsonException)
            {
                // A torn or foreign line: the state builder counts it; nothing to pick up.
            }
        }

        private static GalleryItem ToItem(JournalRow row, JsonElement? inputs, Dictionary<string, DateTimeOffset> endedAt)
        {
            var item = new GalleryItem
            {
                RowId = row.RowId,
                RequestId = row.RequestId,
                SubmittedAt = row.SubmittedAt,
                Output = row.Output,
                Error = row.Error,
            };

            switch (row.Phase)
            {
                case JournalRowPhase.Completed:
                    item.Status = JobState.Completed;
                    break;
                case JournalRowPhase.Saved:
                    item.Status = JobState.Completed;
                    item.OutputFile = row.SavedPath;
                    break;
                case JournalRowPhase.Failed:
                    item.Status = JobState.Failed;
                    break;
                case JournalRowPhase.Submitted:
                    item.Status = "SUBMITTED";
                    break;
                case JournalRowPhase.Unknown:
                    item.Status = "UNKNOWN";
                    item.Error = row.ResolutionHint ?? row.Error;
                    break;
                case JournalRowPhase.NotSubmitted:
                    item.Status = "NOT SUBMITTED";
                    break;
                default:
                    // Released, or a phase of a newer journal: no job to show, under the phase's own name.
                    item.Status = row.Phase.ToString().ToUpperInvariant();
                    break;
            }

            if (row.RequestId != null && endedAt.TryGetValue(row.RequestId, out var ended))
            {
                item.CompletedAt = ended;
                if (row.SubmittedAt.HasValue && ended >= row.SubmittedAt.Value)
                {
                    item.Duration = ended - row.SubmittedAt.Value;
                }
            }

            if (row.Metrics != null)
            {
                item.Cost = MetricValues.Number(row.Metrics, "cost");
                item.InferenceTime = MetricValues.Number(row.Metrics, "inference_time");
            }

            if (inputs.HasValue)
            {
                var given = inputs.Value;
                item.InputVideo = JournalJson.GetString(given, "input_video");
                item.ReferenceImage = JournalJson.GetString(given, "reference_image");
                item.Prompt = JournalJson.GetString(given, "prompt");
                item.Mode = JournalJson.GetString(given, "mode");
                item.Resolution = JournalJson.GetString(given, "resolution");
                item.Seed = JournalJson.GetInt64(given, "seed");
            }

            return item;
        }
    }
}

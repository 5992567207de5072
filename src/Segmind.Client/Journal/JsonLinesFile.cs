using System;
using System.Globalization;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Segmind.Client
{
    /// <summary>
    /// The record format and torn-line-safe append shared by the batch journal and the submit ledger: one JSON
    /// object a line, appended at the file's end and flushed to disk one record at a time.
    /// </summary>
    internal static class JsonLinesFile
    {
        private static readonly JsonWriterOptions WriterOptions = new JsonWriterOptions
        {
            // Prompts stay readable in the file (no \uXXXX for every accented letter); control characters are still escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Indented = false,
        };

        /// <summary>An instant as record text: UTC, to the tick, the same in every culture.</summary>
        public static string Timestamp(DateTimeOffset instant) =>
            instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

        /// <summary>
        /// One record as a line: a leading newline (kept only when the file ends in a torn line, see <see cref="Append"/>),
        /// the object <c>{"v", "kind", "at", ...fields}</c>, and the closing newline.
        /// </summary>
        public static byte[] FormatRecord(int version, string kind, DateTimeOffset at, Action<Utf8JsonWriter> fields)
        {
            using (var buffer = new MemoryStream())
            {
                buffer.WriteByte((byte)'\n');
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("v", version);
                    writer.WriteString("kind", kind);
                    writer.WriteString("at", Timestamp(at));
                    fields(writer);
                    writer.WriteEndObject();
                }

                buffer.WriteByte((byte)'\n');
                return buffer.ToArray();
            }
        }

        /// <summary>
        /// Appends a <see cref="FormatRecord"/> line at the end of <paramref name="stream"/> and flushes it to disk. The
        /// caller holds the file's lock: another process may have appended since, so the end is found now. A line torn
        /// by a crash gets its own line end first; otherwise the reserved leading newline is skipped.
        /// </summary>
        public static void Append(FileStream stream, byte[] line)
        {
            var end = stream.Seek(0, SeekOrigin.End);
            var startsClean = end == 0;
            if (!startsClean)
            {
                stream.Seek(end - 1, SeekOrigin.Begin);
                startsClean = stream.ReadByte() == '\n';
                stream.Seek(end, SeekOrigin.Begin);
            }

            var offset = startsClean ? 1 : 0;
            stream.Write(line, offset, line.Length - offset);
            stream.Flush(flushToDisk: true);
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Segmind.Client.IO
{
    /// <summary>
    /// The small record written beside a saved output (<c>&lt;file&gt;.segmind.json</c>: request id, length, SHA-256)
    /// so a later save can tell this job's complete file from a damaged copy or an unrelated file of the same name.
    /// </summary>
    internal static class OutputRecord
    {
        public const string Suffix = ".segmind.json";

        public static string PathFor(string destination) => destination + Suffix;

        /// <summary>What is at <paramref name="destination"/> compared with the output of <paramref name="requestId"/>.</summary>
        public static ExistingOutput Check(string destination, string requestId)
        {
            if (!File.Exists(destination))
            {
                return ExistingOutput.None;
            }

            string? recordedId;
            long recordedLength;
            string? recordedHash;
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllText(PathFor(destination)));
                var root = document.RootElement;
                recordedId = root.GetProperty("requestId").GetString();
                recordedLength = root.GetProperty("length").GetInt64();
                recordedHash = root.GetProperty("sha256").GetString();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is JsonException || ex is InvalidOperationException || ex is KeyNotFoundException || ex is FormatException)
            {
                return ExistingOutput.Unrelated;
            }

            if (!string.Equals(recordedId, requestId, StringComparison.Ordinal))
            {
                return ExistingOutput.Unrelated;
            }

            // The cheap check first: a truncated or replaced copy nearly always has another length.
            var file = new FileInfo(destination);
            if (file.Length != recordedLength || !string.Equals(HashOf(destination), recordedHash, StringComparison.OrdinalIgnoreCase))
            {
                return ExistingOutput.Damaged;
            }

            return ExistingOutput.Same;
        }

        /// <summary>
        /// Records <paramref name="sha256"/> and <paramref name="length"/> as the output of <paramref name="requestId"/> at
        /// <paramref name="destination"/>. Written before the video is renamed into place, so a video is never there
        /// without its record: another run saving the same job at the same moment finds both, or neither.
        /// </summary>
        public static void Write(string destination, string requestId, long length, string sha256)
        {
            var json = "{\"requestId\":" + JsonSerializer.Serialize(requestId) + ",\"length\":" + length.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + ",\"sha256\":\"" + sha256 + "\"}";

            // Through a temporary name, like the video: a half-written record would misjudge the file later.
            var temporary = PathFor(destination) + "." + Path.GetFileNameWithoutExtension(Path.GetRandomFileName()) + ".partial";
            File.WriteAllText(temporary, json, new UTF8Encoding(false));
            try
            {
                MoveOver(temporary, PathFor(destination));
            }
            catch
            {
                TryDelete(temporary);
                throw;
            }
        }

        /// <summary>
        /// Renames <paramref name="source"/> onto <paramref name="destination"/>, replacing a file there. netstandard2.0 has no
        /// File.Move(overwrite) and File.Replace needs an existing destination, so a file that another run adds or
        /// removes between the check and the rename is met by trying again with the other call.
        /// </summary>
        public static void MoveOver(string source, string destination)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (File.Exists(destination))
                    {
                        File.Replace(source, destination, destinationBackupFileName: null, ignoreMetadataErrors: true);
                    }
                    else
                    {
                        File.Move(source, destination);
                    }

                    return;
                }
                catch (IOException) when (attempt < 5 && File.Exists(source))
                {
                    // The destination appeared (Move) or vanished (Replace) meanwhile.
                }
            }
        }

        /// <summary>The SHA-256 of a file as lower-case hex. Shared for delete, so a reader never blocks another run's atomic replace.</summary>
        public static string HashOf(string path)
        {
            using var sha = SHA256.Create();
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.SequentialScan);
            var hash = sha.ComputeHash(stream);
            var builder = new StringBuilder(hash.Length * 2);
            foreach (var b in hash)
            {
                builder.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }

            return builder.ToString();
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
            }
        }
    }

    internal enum ExistingOutput
    {
        /// <summary>Nothing there.</summary>
        None,

        /// <summary>This job's output, complete: verified by its record's length and hash.</summary>
        Same,

        /// <summary>Recorded as this job's output but changed since (truncated, overwritten): replaced.</summary>
        Damaged,

        /// <summary>Some other file (no record, or another job's): kept unless the caller allows replacing it.</summary>
        Unrelated,
    }
}

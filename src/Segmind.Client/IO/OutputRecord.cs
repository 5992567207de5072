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

        /// <summary>Records the file just renamed into place as the output of <paramref name="requestId"/>.</summary>
        public static void Write(string destination, string requestId, long length)
        {
            var hash = HashOf(destination);
            var json = "{\"requestId\":" + JsonSerializer.Serialize(requestId) + ",\"length\":" + length.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + ",\"sha256\":\"" + hash + "\"}";

            // Through a temporary name, like the video: a half-written record would misjudge the file later.
            var temporary = PathFor(destination) + "." + Path.GetFileNameWithoutExtension(Path.GetRandomFileName()) + ".partial";
            File.WriteAllText(temporary, json, new UTF8Encoding(false));
            if (File.Exists(PathFor(destination)))
            {
                File.Replace(temporary, PathFor(destination), destinationBackupFileName: null, ignoreMetadataErrors: true);
            }
            else
            {
                File.Move(temporary, PathFor(destination));
            }
        }

        private static string HashOf(string path)
        {
            using var sha = SHA256.Create();
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
            var hash = sha.ComputeHash(stream);
            var builder = new StringBuilder(hash.Length * 2);
            foreach (var b in hash)
            {
                builder.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }

            return builder.ToString();
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

using System;
using System.IO;
using System.Text;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>The file name of a saved output: the request id and .mp4, made safe; never a name taken from the server's data.</summary>
    internal static class OutputFileName
    {
        public const string Extension = ".mp4";

        public static string For(string requestId)
        {
            var invalid = Path.GetInvalidFileNameChars();
            var builder = new StringBuilder(requestId.Length);
            foreach (var c in requestId.Trim())
            {
                // Separators of every platform, so a file written on Linux can be copied to Windows.
                builder.Append(Array.IndexOf(invalid, c) >= 0 || c == '/' || c == '\\' || c == ':' || char.IsControl(c) ? '_' : c);
            }

            var name = builder.ToString().Trim('.', ' ');
            if (name.Length == 0)
            {
                throw new ArgumentException("The request id '" + requestId + "' cannot name a file.", nameof(requestId));
            }

            // Windows device names stay unusable whatever the extension.
            if (Array.IndexOf(ReservedNames, name.ToUpperInvariant()) >= 0)
            {
                name = "_" + name;
            }

            // File systems cap a name near 255 bytes: a long id keeps a readable head and a hash of the whole id.
            if (name.Length > MaxStemLength)
            {
                name = name.Substring(0, MaxStemLength - 17) + "-" + HashOf(requestId);
            }

            return name + Extension;
        }

        private const int MaxStemLength = 120;

        private static readonly string[] ReservedNames =
        {
            "CON", "PRN", "AUX", "NUL",
            "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
            "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
        };

        private static string HashOf(string requestId)
        {
            using var sha = System.Security.Cryptography.SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(requestId));
            return BitConverter.ToString(hash, 0, 8).Replace("-", string.Empty).ToLowerInvariant();
        }
    }
}

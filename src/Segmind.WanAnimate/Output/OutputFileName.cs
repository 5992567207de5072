using System;
using System.IO;
using System.Text;

namespace Segmind.WanAnimate.Output
{
    /// <summary>The file name of a saved output: the request id and .mp4, made safe; never a name taken from the server's data.</summary>
    internal static class OutputFileName
    {
        public const string Extension = ".mp4";

        public static string For(string requestId)
        {
            var name = Safe(requestId);
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

        /// <summary>
        /// A name from a -FileName template such as '{RowId}.mp4': each placeholder (RequestId, RowId or its alias Id,
        /// Row) is replaced by the row's value made safe, and the result is made safe as a whole, so it never leaves
        /// the folder. Null (with <paramref name="problem"/>) when a placeholder has no value or the name is unusable.
        /// </summary>
        public static string? FromTemplate(string template, Func<string, string?> value, out string? problem)
        {
            problem = null;
            var builder = new StringBuilder(template.Length + 32);
            var position = 0;
            while (position < template.Length)
            {
                var open = template.IndexOf('{', position);
                if (open < 0)
                {
                    builder.Append(template, position, template.Length - position);
                    break;
                }

                var close = template.IndexOf('}', open + 1);
                if (close < 0)
                {
                    problem = "-FileName '" + template + "' has a '{' without its '}'.";
                    return null;
                }

                builder.Append(template, position, open - position);
                var name = template.Substring(open + 1, close - open - 1).Trim();
                if (!IsPlaceholder(name))
                {
                    problem = "-FileName '" + template + "' names an unknown placeholder {" + name + "}; use {RequestId}, {RowId} (or {Id}) and {Row}.";
                    return null;
                }

                var text = value(name);
                if (string.IsNullOrWhiteSpace(text))
                {
                    problem = "The input has no " + name + " for -FileName '" + template + "'.";
                    return null;
                }

                builder.Append(Safe(text!));
                position = close + 1;
            }

            var whole = Safe(builder.ToString());
            if (whole.Length == 0)
            {
                problem = "-FileName '" + template + "' gives no usable file name.";
                return null;
            }

            if (Array.IndexOf(ReservedNames, Path.GetFileNameWithoutExtension(whole).ToUpperInvariant()) >= 0)
            {
                whole = "_" + whole;
            }

            return whole.Length > 200 ? whole.Substring(0, 183) + "-" + HashOf(whole) : whole;
        }

        /// <summary>Checks a template once, before any input: the placeholders it names must exist.</summary>
        public static string? CheckTemplate(string template)
        {
            FromTemplate(template, _ => "x", out var problem);
            return problem;
        }

        private static bool IsPlaceholder(string name) =>
            string.Equals(name, "RequestId", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "RowId", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "Id", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "Row", StringComparison.OrdinalIgnoreCase);

        /// <summary>Path separators of every platform and invalid characters become '_', so a name never names a folder.</summary>
        private static string Safe(string text)
        {
            var invalid = Path.GetInvalidFileNameChars();
            var builder = new StringBuilder(text.Length);
            foreach (var c in text.Trim())
            {
                // Separators of every platform, so a file written on Linux can be copied to Windows.
                builder.Append(Array.IndexOf(invalid, c) >= 0 || c == '/' || c == '\\' || c == ':' || char.IsControl(c) ? '_' : c);
            }

            // Leading dots and spaces would hide the file or make '..' of it.
            return builder.ToString().Trim('.', ' ');
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

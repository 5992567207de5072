using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Segmind.Client.Http;

namespace Segmind.Client.Gallery
{
    /// <summary>
    /// Text and addresses made safe for the gallery page: every value is escaped, and only http(s) addresses and
    /// relative paths to local files become links or media sources.
    /// </summary>
    public static class GalleryHtml
    {
        /// <summary>Escapes text for an element's content or a quoted attribute value.</summary>
        public static string Escape(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return string.Empty;
            }

            StringBuilder? builder = null;
            for (var i = 0; i < text!.Length; i++)
            {
                var c = text[i];
                string? replacement = c switch
                {
                    '&' => "&amp;",
                    '<' => "&lt;",
                    '>' => "&gt;",
                    '"' => "&quot;",
                    '\'' => "&#39;",
                    '`' => "&#96;",
                    // Control characters (but tab and line ends) are not allowed in HTML text.
                    _ when c < ' ' && c != '\t' && c != '\n' && c != '\r' => "\uFFFD",
                    '\u007F' => "\uFFFD",
                    _ => null,
                };
                if (replacement is null)
                {
                    builder?.Append(c);
                    continue;
                }

                builder ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
                builder.Append(replacement);
            }

            return builder?.ToString() ?? text;
        }

        /// <summary>
        /// The address to link or embed for <paramref name="location"/>, seen from a page in
        /// <paramref name="pageDirectory"/>: an absolute http(s) address as it is, a local file as a relative path
        /// (each part percent-encoded), anything else (javascript:, data:, file:, another drive, a relative path whose
        /// base is unknown) null: shown as text, never linked.
        /// </summary>
        public static string? SafeHref(string? location, string pageDirectory)
        {
            if (string.IsNullOrWhiteSpace(location))
            {
                return null;
            }

            var text = location!.Trim();
            if (UriRules.TryParseHttp(text, out var uri))
            {
                return uri.AbsoluteUri;
            }

            return RelativeFileHref(text, pageDirectory);
        }

        /// <summary>True when <paramref name="location"/> is an absolute http(s) address.</summary>
        public static bool IsHttp(string? location) =>
            !string.IsNullOrWhiteSpace(location) && UriRules.TryParseHttp(location!.Trim(), out _);

        /// <summary>A rooted local path as a relative, percent-encoded address from <paramref name="pageDirectory"/>; null when there is none.</summary>
        public static string? RelativeFileHref(string filePath, string pageDirectory)
        {
            if (string.IsNullOrWhiteSpace(filePath) || string.IsNullOrWhiteSpace(pageDirectory))
            {
                return null;
            }

            string full;
            string directory;
            try
            {
                // A URI of any scheme (file:, javascript:, data:) is not a path here, even where it parses as one.
                if (Uri.TryCreate(filePath, UriKind.Absolute, out var asUri) && !asUri.IsFile)
                {
                    return null;
                }

                if (filePath.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || !Path.IsPathRooted(filePath) || !Path.IsPathRooted(pageDirectory))
                {
                    return null;
                }

                full = Path.GetFullPath(filePath);
                directory = Path.GetFullPath(pageDirectory);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is PathTooLongException || ex is System.Security.SecurityException)
            {
                return null;
            }

            var comparison = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (!string.Equals(Path.GetPathRoot(full), Path.GetPathRoot(directory), comparison))
            {
                return null;
            }

            var fileParts = Split(full);
            var directoryParts = Split(directory);
            if (fileParts.Count == 0)
            {
                return null;
            }

            var common = 0;
            while (common < directoryParts.Count && common < fileParts.Count - 1
                   && string.Equals(directoryParts[common], fileParts[common], comparison))
            {
                common++;
            }

            var href = new StringBuilder();
            for (var i = common; i < directoryParts.Count; i++)
            {
                href.Append("../");
            }

            for (var i = common; i < fileParts.Count; i++)
            {
                if (i > common)
                {
                    href.Append('/');
                }

                href.Append(Uri.EscapeDataString(fileParts[i]));
            }

            return href.ToString();
        }

        private static List<string> Split(string path)
        {
            var root = Path.GetPathRoot(path) ?? string.Empty;
            var rest = path.Substring(root.Length);
            var parts = new List<string>();
            foreach (var part in rest.Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries))
            {
                parts.Add(part);
            }

            return parts;
        }
    }
}

using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Segmind.Client.Json;

namespace Segmind.Client.Http
{
    /// <summary>The server's own words from an answer body: JSON error/detail/message, else cleaned-up text.</summary>
    internal static class ServerMessage
    {
        public const int MaxLength = 300;

        private static readonly Regex ScriptOrStyle = new Regex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex Tag = new Regex(@"<[^>]*>", RegexOptions.Singleline | RegexOptions.CultureInvariant);
        private static readonly Regex Whitespace = new Regex(@"\s+", RegexOptions.CultureInvariant);

        public static string? Extract(byte[] body)
        {
            if (body.Length == 0)
            {
                return null;
            }

            using (var document = JsonValues.TryParse(body))
            {
                if (document != null)
                {
                    var root = document.RootElement;
                    var fromJson = FromJson(root);
                    if (fromJson != null)
                    {
                        return fromJson;
                    }

                    // JSON without a message field: its compact text says more than nothing, an empty object nothing.
                    var empty = (root.ValueKind == JsonValueKind.Object && !root.EnumerateObject().Any())
                        || (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() == 0)
                        || root.ValueKind == JsonValueKind.Null;
                    return empty ? null : Clean(root.GetRawText());
                }
            }

            return FromText(Decode(body));
        }

        /// <summary>The error/detail/message field of a parsed body (a string, or the compact JSON of a structured value).</summary>
        public static string? FromJson(JsonElement root)
        {
            foreach (var name in new[] { "error", "detail", "message" })
            {
                if (!JsonValues.TryGetProperty(root, name, out var value))
                {
                    continue;
                }

                switch (value.ValueKind)
                {
                    case JsonValueKind.String:
                        var text = Clean(value.GetString());
                        if (text != null)
                        {
                            return text;
                        }

                        break;
                    case JsonValueKind.Object:
                    case JsonValueKind.Array:
                        // FastAPI-style validation details: a list of objects; their "msg" fields say it best.
                        return Truncate(Whitespace.Replace(value.GetRawText(), " ").Trim());
                }
            }

            return null;
        }

        public static string? FromText(string text)
        {
            if (text.IndexOf('<') >= 0 && text.IndexOf('>') > 0)
            {
                text = ScriptOrStyle.Replace(text, " ");
                text = Tag.Replace(text, " ");
                text = WebUtility.HtmlDecode(text);
            }

            return Clean(text);
        }

        private static string? Clean(string? text)
        {
            if (text is null)
            {
                return null;
            }

            var collapsed = Whitespace.Replace(text, " ").Trim();
            return collapsed.Length == 0 ? null : Truncate(collapsed);
        }

        private static string Truncate(string text) =>
            text.Length <= MaxLength ? text : text.Substring(0, MaxLength).TrimEnd() + "...";

        private static string Decode(byte[] body)
        {
            // Error bodies are small; only their start is worth reading.
            var length = Math.Min(body.Length, 64 * 1024);
            return Encoding.UTF8.GetString(body, 0, length);
        }
    }
}

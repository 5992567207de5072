using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;

namespace Segmind.Client.Json
{
    /// <summary>Lenient reading of Segmind's JSON: unknown fields ignored, values turned into plain .NET objects.</summary>
    internal static class JsonValues
    {
        private static readonly JsonDocumentOptions DocumentOptions = new JsonDocumentOptions
        {
            AllowTrailingCommas = true,
            CommentHandling = JsonCommentHandling.Skip,
            MaxDepth = 64,
        };

        /// <summary>The parsed body, or null when it is not JSON.</summary>
        public static JsonDocument? TryParse(byte[] body)
        {
            if (body.Length == 0 || !MayBeJsonText(body))
            {
                return null;
            }

            try
            {
                return JsonDocument.Parse(new ReadOnlyMemory<byte>(body), DocumentOptions);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>
        /// Segmind answers with objects, arrays or strings. Anything else (HTML, plain text) is refused without
        /// parsing: the parser's exception would quote the body, and a body may echo the API key.
        /// </summary>
        private static bool MayBeJsonText(byte[] body)
        {
            var start = body.Length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF ? 3 : 0;
            for (var i = start; i < body.Length; i++)
            {
                switch (body[i])
                {
                    case (byte)' ':
                    case (byte)'\t':
                    case (byte)'\r':
                    case (byte)'\n':
                        continue;
                    case (byte)'{':
                    case (byte)'[':
                    case (byte)'"':
                        return true;
                    default:
                        return false;
                }
            }

            return false;
        }

        public static bool TryGetProperty(JsonElement element, string name, out JsonElement value)
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value))
            {
                return true;
            }

            value = default;
            return false;
        }

        /// <summary>A string field; numbers are given as their invariant text; absent, null or structured -> null.</summary>
        public static string? GetString(JsonElement element, string name)
        {
            if (!TryGetProperty(element, name, out var value))
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            };
        }

        /// <summary>A number given as a JSON number or as numeric text.</summary>
        public static double? GetNumber(JsonElement element, string name)
        {
            if (!TryGetProperty(element, name, out var value))
            {
                return null;
            }

            return ToDouble(value);
        }

        public static double? ToDouble(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Number:
                    return value.TryGetDouble(out var number) ? number : (double?)null;
                case JsonValueKind.String:
                    return double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : (double?)null;
                default:
                    return null;
            }
        }

        /// <summary>Any JSON value as string, long, double, bool, null, Dictionary or List.</summary>
        public static object? ToPlain(JsonElement value)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    return value.GetString();
                case JsonValueKind.Number:
                    if (value.TryGetInt64(out var integer))
                    {
                        return integer;
                    }

                    return value.TryGetDouble(out var real) ? real : (object)value.GetRawText();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                case JsonValueKind.Object:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var property in value.EnumerateObject())
                    {
                        map[property.Name] = ToPlain(property.Value);
                    }

                    return map;
                case JsonValueKind.Array:
                    var list = new List<object?>();
                    foreach (var item in value.EnumerateArray())
                    {
                        list.Add(ToPlain(item));
                    }

                    return list;
                default:
                    return null;
            }
        }

        /// <summary>The object at <paramref name="name"/> as a read-only dictionary; empty when absent or not an object.</summary>
        public static IReadOnlyDictionary<string, object?> GetObject(JsonElement element, string name)
        {
            if (TryGetProperty(element, name, out var value) && value.ValueKind == JsonValueKind.Object && ToPlain(value) is Dictionary<string, object?> map)
            {
                return map;
            }

            return new Dictionary<string, object?>(StringComparer.Ordinal);
        }
    }
}

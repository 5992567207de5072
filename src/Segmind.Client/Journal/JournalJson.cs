using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;

namespace Segmind.Client
{
    /// <summary>Journal records' JSON back to plain .NET values (writing them is <see cref="Json.MetricsJson"/>).</summary>
    internal static class JournalJson
    {
        private const int MaxDepth = 32;

        /// <summary>A JSON value as the client's plain values: string, long, double, bool, null, dictionaries and lists.</summary>
        public static object? ReadValue(JsonElement element, int depth = 0)
        {
            if (depth > MaxDepth)
            {
                return null;
            }

            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return element.GetString();
                case JsonValueKind.Number:
                    if (element.TryGetInt64(out var whole))
                    {
                        return whole;
                    }

                    return element.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                case JsonValueKind.Object:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (var property in element.EnumerateObject())
                    {
                        map[property.Name] = ReadValue(property.Value, depth + 1);
                    }

                    return map;
                case JsonValueKind.Array:
                    var list = new List<object?>();
                    foreach (var item in element.EnumerateArray())
                    {
                        list.Add(ReadValue(item, depth + 1));
                    }

                    return list;
                default:
                    return null;
            }
        }

        public static string? GetString(JsonElement record, string name) =>
            record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        public static long? GetInt64(JsonElement record, string name) =>
            record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : (long?)null;

        public static bool GetBoolean(JsonElement record, string name) =>
            record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

        public static DateTimeOffset? GetInstant(JsonElement record, string name)
        {
            var text = GetString(record, name);
            return text != null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
                ? instant
                : (DateTimeOffset?)null;
        }

        public static Uri? GetUri(JsonElement record, string name)
        {
            var text = GetString(record, name);
            return text != null && Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null;
        }

        public static IReadOnlyDictionary<string, object?>? GetObject(JsonElement record, string name) =>
            record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
                ? (IReadOnlyDictionary<string, object?>?)ReadValue(value)
                : null;
    }
}

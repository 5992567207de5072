using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;

namespace Segmind.Client
{
    /// <summary>Plain .NET values (as the client hands out metrics) to JSON and back.</summary>
    internal static class JournalJson
    {
        private const int MaxDepth = 32;

        public static void WriteValue(Utf8JsonWriter writer, object? value, int depth = 0)
        {
            if (depth > MaxDepth)
            {
                writer.WriteNullValue();
                return;
            }

            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    break;
                case string text:
                    writer.WriteStringValue(text);
                    break;
                case bool flag:
                    writer.WriteBooleanValue(flag);
                    break;
                case double number:
                    WriteDouble(writer, number);
                    break;
                case float number:
                    WriteDouble(writer, number);
                    break;
                case decimal number:
                    writer.WriteNumberValue(number);
                    break;
                case long number:
                    writer.WriteNumberValue(number);
                    break;
                case int number:
                    writer.WriteNumberValue(number);
                    break;
                case short number:
                    writer.WriteNumberValue(number);
                    break;
                case uint number:
                    writer.WriteNumberValue(number);
                    break;
                case ulong number:
                    writer.WriteNumberValue(number);
                    break;
                case DateTimeOffset instant:
                    writer.WriteStringValue(instant.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture));
                    break;
                case DateTime instant:
                    writer.WriteStringValue(instant.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture));
                    break;
                case JsonElement element:
                    element.WriteTo(writer);
                    break;
                case IEnumerable<KeyValuePair<string, object?>> pairs:
                    writer.WriteStartObject();
                    foreach (var pair in pairs)
                    {
                        writer.WritePropertyName(pair.Key);
                        WriteValue(writer, pair.Value, depth + 1);
                    }

                    writer.WriteEndObject();
                    break;
                case IDictionary dictionary:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry pair in dictionary)
                    {
                        writer.WritePropertyName(Convert.ToString(pair.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                        WriteValue(writer, pair.Value, depth + 1);
                    }

                    writer.WriteEndObject();
                    break;
                case IEnumerable items:
                    writer.WriteStartArray();
                    foreach (var item in items)
                    {
                        WriteValue(writer, item, depth + 1);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }

        private static void WriteDouble(Utf8JsonWriter writer, double number)
        {
            if (double.IsNaN(number) || double.IsInfinity(number))
            {
                // JSON has no NaN or Infinity; a string keeps the line valid and the value visible.
                writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                writer.WriteNumberValue(number);
            }
        }

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

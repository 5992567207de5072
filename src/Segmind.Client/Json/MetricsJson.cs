using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Segmind.Client.Json
{
    /// <summary>
    /// Plain .NET values as the client hands out metrics (strings, numbers, booleans, times, dictionaries, lists) as
    /// JSON: the one writer behind journal records and the module's metric tables.
    /// </summary>
    public static class MetricsJson
    {
        /// <summary>Deeper nesting is written as null: metrics are flat in practice, and a cycle must not recurse forever.</summary>
        private const int MaxDepth = 32;

        /// <summary>Compact JSON text of <paramref name="value"/>, the same in every culture.</summary>
        public static string ToText(object? value)
        {
            using (var stream = new MemoryStream())
            {
                using (var writer = new Utf8JsonWriter(stream))
                {
                    Write(writer, value);
                }

                return Encoding.UTF8.GetString(stream.ToArray());
            }
        }

        /// <summary>Writes <paramref name="value"/> as the next JSON value of <paramref name="writer"/>.</summary>
        internal static void Write(Utf8JsonWriter writer, object? value, int depth = 0)
        {
            if (value is null || depth > MaxDepth)
            {
                writer.WriteNullValue();
                return;
            }

            switch (value)
            {
                case string text:
                    writer.WriteStringValue(text);
                    break;
                case bool flag:
                    writer.WriteBooleanValue(flag);
                    break;
                case double _:
                case float _:
                    WriteDouble(writer, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                    break;
                case long _:
                case int _:
                case short _:
                case uint _:
                    writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                    break;
                case ulong number:
                    writer.WriteNumberValue(number);
                    break;
                case decimal number:
                    writer.WriteNumberValue(number);
                    break;
                case DateTimeOffset _:
                case DateTime _:
                    writer.WriteStringValue(UtcText(value));
                    break;
                case JsonElement element:
                    element.WriteTo(writer);
                    break;
                case IEnumerable<KeyValuePair<string, object?>> pairs:
                    WriteObject(writer, pairs, depth);
                    break;
                case IDictionary dictionary:
                    WriteObject(writer, Entries(dictionary), depth);
                    break;
                case IEnumerable items:
                    writer.WriteStartArray();
                    foreach (var item in items)
                    {
                        Write(writer, item, depth + 1);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }

        private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> pairs, int depth)
        {
            writer.WriteStartObject();
            foreach (var pair in pairs)
            {
                writer.WritePropertyName(pair.Key);
                Write(writer, pair.Value, depth + 1);
            }

            writer.WriteEndObject();
        }

        /// <summary>A non-generic dictionary's entries, keys as culture-free text.</summary>
        private static IEnumerable<KeyValuePair<string, object?>> Entries(IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                yield return new KeyValuePair<string, object?>(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty, entry.Value);
            }
        }

        /// <summary>A DateTimeOffset or DateTime as round-trip ISO 8601 text in UTC.</summary>
        private static string UtcText(object instant) => instant is DateTimeOffset offset
            ? offset.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture)
            : ((DateTime)instant).ToUniversalTime().ToString("o", CultureInfo.InvariantCulture);

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
    }
}

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
                        Write(writer, pair.Value, depth + 1);
                    }

                    writer.WriteEndObject();
                    break;
                case IDictionary dictionary:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry pair in dictionary)
                    {
                        writer.WritePropertyName(Convert.ToString(pair.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                        Write(writer, pair.Value, depth + 1);
                    }

                    writer.WriteEndObject();
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

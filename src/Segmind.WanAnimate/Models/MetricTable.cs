using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace Segmind.WanAnimate
{
    /// <summary>
    /// The server's metrics by name (case-insensitive). Its text form is compact JSON, so Export-Csv writes the values
    /// instead of "System.Collections.Hashtable" and ConvertFrom-Json reads them back.
    /// </summary>
    public sealed class MetricTable : Hashtable
    {
        public MetricTable()
            : base(StringComparer.OrdinalIgnoreCase)
        {
        }

        public MetricTable(IDictionary? values)
            : this()
        {
            if (values == null)
            {
                return;
            }

            foreach (DictionaryEntry entry in values)
            {
                this[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty] = entry.Value;
            }
        }

        public override string ToString()
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                Write(writer, this);
            }

            return Encoding.UTF8.GetString(stream.ToArray());
        }

        private static void Write(Utf8JsonWriter writer, object? value)
        {
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
                    writer.WriteNumberValue(number);
                    break;
                case float number:
                    writer.WriteNumberValue(number);
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
                case IDictionary table:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry entry in table)
                    {
                        writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                        Write(writer, entry.Value);
                    }

                    writer.WriteEndObject();
                    break;
                case IEnumerable items:
                    writer.WriteStartArray();
                    foreach (var item in items)
                    {
                        Write(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }
    }
}

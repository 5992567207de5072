using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// One table entity: its keys, its ETag (as last read or written) and its properties. Property values are
    /// string, bool, int, long, double or <see cref="DateTimeOffset"/>; null values are not stored.
    /// </summary>
    internal sealed class TableEntity
    {
        public TableEntity(string partitionKey, string rowKey)
        {
            PartitionKey = partitionKey;
            RowKey = rowKey;
        }

        public string PartitionKey { get; }

        public string RowKey { get; }

        /// <summary>The entity's version as the service last reported it; a conditional update names it.</summary>
        public string? ETag { get; set; }

        public Dictionary<string, object?> Properties { get; } = new Dictionary<string, object?>(StringComparer.Ordinal);

        public object? this[string name]
        {
            get => Properties.TryGetValue(name, out var value) ? value : null;
            set => Properties[name] = value;
        }

        public string? GetString(string name) => this[name] as string;

        public long? GetInt64(string name) => this[name] switch
        {
            long l => l,
            int i => i,
            double d => (long)d,
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };

        public DateTimeOffset? GetDateTime(string name) => this[name] switch
        {
            DateTimeOffset t => t,
            string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) => parsed,
            _ => null,
        };

        /// <summary>The JSON body of an insert or replace: keys, then every non-null property with the type annotations the service needs.</summary>
        public byte[] ToJson()
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("PartitionKey", PartitionKey);
                writer.WriteString("RowKey", RowKey);
                foreach (var pair in Properties)
                {
                    WriteProperty(writer, pair.Key, pair.Value);
                }

                writer.WriteEndObject();
            }

            return buffer.ToArray();
        }

        /// <summary>Reads one entity as the service returns it (minimal metadata: <c>odata.etag</c> and <c>@odata.type</c> annotations).</summary>
        public static TableEntity FromJson(JsonElement element, string? etagHeader)
        {
            var partitionKey = element.TryGetProperty("PartitionKey", out var pk) && pk.ValueKind == JsonValueKind.String ? pk.GetString()! : string.Empty;
            var rowKey = element.TryGetProperty("RowKey", out var rk) && rk.ValueKind == JsonValueKind.String ? rk.GetString()! : string.Empty;
            var entity = new TableEntity(partitionKey, rowKey)
            {
                ETag = element.TryGetProperty("odata.etag", out var etag) && etag.ValueKind == JsonValueKind.String ? etag.GetString() : etagHeader,
            };

            foreach (var property in element.EnumerateObject())
            {
                var name = property.Name;
                if (name == "PartitionKey" || name == "RowKey" || name.StartsWith("odata.", StringComparison.Ordinal) || name.EndsWith("@odata.type", StringComparison.Ordinal))
                {
                    continue;
                }

                var type = element.TryGetProperty(name + "@odata.type", out var annotation) && annotation.ValueKind == JsonValueKind.String ? annotation.GetString() : null;
                entity.Properties[name] = ReadValue(property.Value, type);
            }

            return entity;
        }

        private static object? ReadValue(JsonElement value, string? type)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    var text = value.GetString()!;
                    if (type == "Edm.Int64" && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                    {
                        return number;
                    }

                    if (type == "Edm.DateTime" && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
                    {
                        return instant;
                    }

                    return text;
                case JsonValueKind.Number:
                    return value.TryGetInt32(out var small) ? small : value.TryGetInt64(out var large) ? large : value.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                default:
                    return null;
            }
        }

        private static void WriteProperty(Utf8JsonWriter writer, string name, object? value)
        {
            switch (value)
            {
                case null:
                    return;
                case string s:
                    writer.WriteString(name, s);
                    return;
                case bool b:
                    writer.WriteBoolean(name, b);
                    return;
                case int i:
                    writer.WriteNumber(name, i);
                    return;
                case long l:
                    writer.WriteString(name + "@odata.type", "Edm.Int64");
                    writer.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                    return;
                case double d:
                    writer.WriteNumber(name, d);
                    return;
                case DateTimeOffset t:
                    writer.WriteString(name + "@odata.type", "Edm.DateTime");
                    writer.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
                    return;
                default:
                    throw new ArgumentException("Unsupported table property type for '" + name + "': " + value.GetType().Name);
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using Segmind.Client.Json;

namespace Segmind.Client
{
    /// <summary>A journal or ledger record's fields by name, as .NET values (nested values such as metrics are written with <see cref="MetricsJson"/>).</summary>
    internal static class JournalJson
    {
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
                ? (IReadOnlyDictionary<string, object?>?)JsonValues.ToPlain(value)
                : null;
    }
}

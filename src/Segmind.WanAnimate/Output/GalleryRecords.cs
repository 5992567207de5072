using System;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using Segmind.Client;
using Segmind.Client.Gallery;

namespace Segmind.WanAnimate.Output
{
    /// <summary>
    /// Pipeline objects as gallery rows, by property name: results, jobs, status objects, CSV rows re-imported with
    /// Import-Csv, and any other object with the same property names (a ledger entry, a custom object). An error
    /// record becomes its target's row with the failure's message.
    /// </summary>
    internal static class GalleryRecords
    {
        public static GalleryItem? FromObject(object? input, Func<string, string> resolvePath)
        {
            if (input is null)
            {
                return null;
            }

            var value = input is PSObject wrapped ? wrapped.BaseObject : input;
            if (value is ErrorRecord error)
            {
                return FromError(error, resolvePath);
            }

            if (value is string)
            {
                return null;
            }

            var source = PSObject.AsPSObject(input);
            var metrics = Metrics(source);
            var item = new GalleryItem
            {
                RowId = Text(source, "RowId") ?? Text(source, "Id"),
                Row = Get<int?>(source, "Row"),
                RequestId = Text(source, "RequestId") ?? Text(source, "request_id"),
                Status = Text(source, "Status") ?? string.Empty,
                Prompt = Text(source, "Prompt"),
                Mode = Text(source, "Mode"),
                Resolution = Text(source, "Resolution"),
                Seed = Get<long?>(source, "Seed"),
                InputVideo = Location(Text(source, "InputVideo") ?? Text(source, "input_video"), resolvePath),
                ReferenceImage = Location(Text(source, "ReferenceImage") ?? Text(source, "reference_image"), resolvePath),
                OutputFile = Location(Text(source, "OutputFile") ?? Text(source, "SavedPath"), resolvePath),
                Output = Text(source, "Output"),
                Cost = Number(source, "Cost") ?? Convert<double?>(metrics?["cost"]),
                InferenceTime = Number(source, "InferenceTime") ?? Convert<double?>(metrics?["inference_time"]),
                SubmittedAt = Time(source, "SubmittedAt"),
                CompletedAt = Time(source, "CompletedAt"),
                Duration = Get<TimeSpan?>(source, "Duration"),
                Error = Text(source, "Error") ?? Text(source, "ErrorMessage"),
            };

            // A default CompletedAt (a job object converted from an unfinished one) says nothing.
            if (item.CompletedAt == default(DateTimeOffset))
            {
                item.CompletedAt = null;
            }

            if (item.Duration is null && item.SubmittedAt.HasValue && item.CompletedAt.HasValue && item.CompletedAt >= item.SubmittedAt)
            {
                item.Duration = item.CompletedAt - item.SubmittedAt;
            }

            if (string.IsNullOrEmpty(item.RowId) && string.IsNullOrEmpty(item.RequestId))
            {
                return null;
            }

            return item;
        }

        private static GalleryItem? FromError(ErrorRecord error, Func<string, string> resolvePath)
        {
            var item = FromObject(error.TargetObject, resolvePath) ?? new GalleryItem();
            var exception = error.Exception;
            var segmind = exception as SegmindException;
            item.RequestId ??= segmind?.RequestId;
            var message = error.ErrorDetails?.Message;
            if (string.IsNullOrWhiteSpace(message))
            {
                message = exception?.Message;
            }

            switch (exception)
            {
                case SegmindJobFailedException failed:
                    item.Status = Segmind.Client.JobState.Failed;
                    item.Error = string.IsNullOrWhiteSpace(failed.ServerMessage) ? message : failed.ServerMessage;
                    break;
                case SegmindWaitTimeoutException timeout:
                    // The job goes on at Segmind: still pending, with the reason it is not here.
                    item.Status = string.IsNullOrEmpty(timeout.LastStatus) ? "IN_PROGRESS" : timeout.LastStatus!;
                    item.Error = message;
                    break;
                case SegmindSubmitOutcomeUnknownException:
                    item.Status = "UNKNOWN";
                    item.Error = message;
                    break;
                default:
                    item.Status = "ERROR";
                    item.Error = segmind?.ServerMessage ?? message;
                    break;
            }

            return string.IsNullOrEmpty(item.RowId) && string.IsNullOrEmpty(item.RequestId) ? null : item;
        }

        /// <summary>A local path made absolute (from the current location); addresses and empty values as they are.</summary>
        private static string? Location(string? value, Func<string, string> resolvePath)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            var text = value!.Trim();
            if (text.IndexOf("://", StringComparison.Ordinal) >= 0 || Path.IsPathRooted(text) || text.IndexOf(':') > 1)
            {
                return text;
            }

            try
            {
                return resolvePath(text);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is ItemNotFoundException || ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is PSNotSupportedException)
            {
                return text;
            }
        }

        private static string? Text(PSObject source, string name)
        {
            var value = source.Properties[name]?.Value;
            if (value is PSObject wrapped)
            {
                value = wrapped.BaseObject;
            }

            var text = value is null ? null : LanguagePrimitives.ConvertTo<string>(value);
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        private static T? Get<T>(PSObject source, string name)
        {
            PSPropertyInfo? property;
            try
            {
                property = source.Properties[name];
            }
            catch (GetValueException)
            {
                return default;
            }

            return Convert<T>(property?.Value);
        }

        /// <summary>
        /// A number, also from Import-Csv text: Export-Csv writes numbers in the culture of the session that exported
        /// them ("0,25" in de-DE). The invariant form first, then this session's; never with thousands separators,
        /// which would read "0,25" as 25.
        /// </summary>
        private static double? Number(PSObject source, string name)
        {
            var value = Unwrap(source, name);
            if (!(value is string text))
            {
                return Convert<double?>(value);
            }

            const NumberStyles style = NumberStyles.Float;
            if (double.TryParse(text, style, CultureInfo.InvariantCulture, out var invariant))
            {
                return invariant;
            }

            return double.TryParse(text, style, CultureInfo.CurrentCulture, out var local) ? local : (double?)null;
        }

        /// <summary>
        /// A point in time, also from Import-Csv text: ISO 8601 (what job and result objects export) as such, other
        /// text in this session's culture first (a ledger entry exported in de-DE says "01.12.2026", 1 December).
        /// </summary>
        private static DateTimeOffset? Time(PSObject source, string name)
        {
            var value = Unwrap(source, name);
            if (!(value is string text))
            {
                return Convert<DateTimeOffset?>(value);
            }

            text = text.Trim();
            var iso = text.Length >= 10 && text[4] == '-' && text[7] == '-';
            if (iso && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                return parsed;
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.CurrentCulture, DateTimeStyles.None, out parsed)
                || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out parsed))
            {
                return parsed;
            }

            return null;
        }

        /// <summary>The server's metrics: a table on result objects, its JSON text in a re-imported CSV.</summary>
        private static IDictionary? Metrics(PSObject source)
        {
            var value = Unwrap(source, "Metrics");
            if (value is IDictionary table)
            {
                return table;
            }

            if (!(value is string text) || !text.TrimStart().StartsWith("{", StringComparison.Ordinal))
            {
                return null;
            }

            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(text);
                var metrics = new Hashtable(StringComparer.OrdinalIgnoreCase);
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Value.ValueKind == System.Text.Json.JsonValueKind.Number)
                    {
                        metrics[property.Name] = property.Value.GetDouble();
                    }
                }

                return metrics;
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }

        private static object? Unwrap(PSObject source, string name)
        {
            object? value;
            try
            {
                value = source.Properties[name]?.Value;
            }
            catch (GetValueException)
            {
                return null;
            }

            value = value is PSObject wrapped ? wrapped.BaseObject : value;
            return value is string text && string.IsNullOrWhiteSpace(text) ? null : value;
        }

        private static T? Convert<T>(object? value)
        {
            if (value is null || (value is string text && string.IsNullOrWhiteSpace(text)))
            {
                return default;
            }

            return LanguagePrimitives.TryConvertTo<T>(value, System.Globalization.CultureInfo.InvariantCulture, out var converted) ? converted : default;
        }
    }
}

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Segmind.Client;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>Builds the cmdlets' output objects from the core's answers.</summary>
    internal static class ModelFactory
    {
        public static WanAnimateStatus ToStatus(JobStatus status) => new WanAnimateStatus
        {
            RequestId = status.RequestId,
            Status = status.Status,
            Error = status.Error,
            Metrics = ToHashtable(status.Metrics),
            CheckedAt = status.CheckedAt,
        };

        public static SegmindCredit ToCredit(CreditBalance balance) => new SegmindCredit
        {
            Credits = balance.Credits,
            FreeCredits = balance.FreeCredits,
            CheckedAt = balance.CheckedAt,
        };

        public static WanAnimateResult ToResult(JobResult result, JobInputs? inputs, string? responseUrl)
        {
            var output = new WanAnimateResult
            {
                RequestId = result.RequestId,
                Status = result.Status,
                Output = result.Output,
                ResponseUrl = responseUrl,
                InferenceTime = result.InferenceTime,
                Cost = result.Cost,
                Metrics = ToHashtable(result.Metrics),
                CompletedAt = result.RetrievedAt,
            };
            inputs?.ApplyTo(output);
            return output;
        }

        /// <summary>The core's view of a result the user piped in, so it can be saved without fetching it again.</summary>
        public static JobResult ToJobResult(WanAnimateResult result)
        {
            var metrics = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (result.Metrics != null)
            {
                foreach (DictionaryEntry entry in result.Metrics)
                {
                    metrics[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty] = entry.Value;
                }
            }

            return new JobResult(result.RequestId, result.Status, null, metrics, result.Output, result.CompletedAt);
        }

        public static Hashtable ToHashtable(IReadOnlyDictionary<string, object?>? values)
        {
            var table = new Hashtable(StringComparer.OrdinalIgnoreCase);
            if (values == null)
            {
                return table;
            }

            foreach (var pair in values)
            {
                table[pair.Key] = ToPlain(pair.Value);
            }

            return table;
        }

        private static object? ToPlain(object? value)
        {
            switch (value)
            {
                case null:
                    return null;
                case string text:
                    return text;
                case IReadOnlyDictionary<string, object?> nested:
                    return ToHashtable(nested);
                case IDictionary<string, object?> nestedMutable:
                    var table = new Hashtable(StringComparer.OrdinalIgnoreCase);
                    foreach (var pair in nestedMutable)
                    {
                        table[pair.Key] = ToPlain(pair.Value);
                    }

                    return table;
                case IEnumerable sequence:
                    var items = new List<object?>();
                    foreach (var item in sequence)
                    {
                        items.Add(ToPlain(item));
                    }

                    return items.ToArray();
                default:
                    return value;
            }
        }
    }

    /// <summary>
    /// The inputs a job was submitted with, carried from a piped WanAnimateJob (or a CSV row of one) into its result.
    /// </summary>
    internal sealed class JobInputs
    {
        public DateTimeOffset? SubmittedAt { get; set; }
        public string? InputVideo { get; set; }
        public string? ReferenceImage { get; set; }
        public string? Prompt { get; set; }
        public string? Mode { get; set; }
        public string? Resolution { get; set; }
        public long? Seed { get; set; }
        public string? RowId { get; set; }
        public int? Row { get; set; }

        public static JobInputs From(WanAnimateJob job) => new JobInputs
        {
            SubmittedAt = job.SubmittedAt == default ? (DateTimeOffset?)null : job.SubmittedAt,
            InputVideo = job.InputVideo,
            ReferenceImage = job.ReferenceImage,
            Prompt = job.Prompt,
            Mode = job.Mode,
            Resolution = job.Resolution,
            Seed = job.Seed,
            RowId = job.RowId,
            Row = job.Row,
        };

        /// <summary>Reads the input properties of whatever was piped: a job object, a result, or a CSV row with string values.</summary>
        public static JobInputs? FromPipelineObject(PSObject? input)
        {
            var value = input?.BaseObject;
            switch (value)
            {
                case null:
                    return null;
                case WanAnimateJob job:
                    return From(job);
                case WanAnimateResult result:
                    return new JobInputs
                    {
                        SubmittedAt = result.SubmittedAt,
                        InputVideo = result.InputVideo,
                        ReferenceImage = result.ReferenceImage,
                        Prompt = result.Prompt,
                        Mode = result.Mode,
                        Resolution = result.Resolution,
                        Seed = result.Seed,
                        RowId = result.RowId,
                        Row = result.Row,
                    };
                case string:
                    return null;
            }

            var inputs = new JobInputs
            {
                SubmittedAt = ReadDate(input!, "SubmittedAt"),
                InputVideo = ReadString(input!, "InputVideo", "input_video"),
                ReferenceImage = ReadString(input!, "ReferenceImage", "reference_image"),
                Prompt = ReadString(input!, "Prompt"),
                Mode = ReadString(input!, "Mode"),
                Resolution = ReadString(input!, "Resolution"),
                Seed = ReadLong(input!, "Seed"),
                RowId = ReadString(input!, "RowId"),
                Row = (int?)ReadLong(input!, "Row"),
            };

            // Nothing to carry into the result (a bare object with a request id): keep nothing for the whole wait.
            return inputs.IsEmpty ? null : inputs;
        }

        /// <summary>True when <see cref="ApplyTo"/> would only set what a new result already has (every field null).</summary>
        private bool IsEmpty =>
            SubmittedAt is null && InputVideo is null && ReferenceImage is null && Prompt is null && Mode is null
            && Resolution is null && Seed is null && RowId is null && Row is null;

        public void ApplyTo(WanAnimateResult result)
        {
            result.SubmittedAt = SubmittedAt;
            result.InputVideo = InputVideo;
            result.ReferenceImage = ReferenceImage;
            result.Prompt = Prompt;
            result.Mode = Mode;
            result.Resolution = Resolution;
            result.Seed = Seed;
            result.RowId = RowId;
            result.Row = Row;
            if (SubmittedAt.HasValue && result.CompletedAt != default)
            {
                result.Duration = result.CompletedAt - SubmittedAt.Value;
            }
        }

        private static object? Read(PSObject input, params string[] names)
        {
            foreach (var name in names)
            {
                var property = input.Properties[name];
                if (property != null)
                {
                    try
                    {
                        var value = property.Value;
                        return value is PSObject wrapped ? wrapped.BaseObject : value;
                    }
                    catch (GetValueException)
                    {
                        return null;
                    }
                }
            }

            return null;
        }

        private static string? ReadString(PSObject input, params string[] names)
        {
            var value = Read(input, names);
            var text = value == null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
            return string.IsNullOrEmpty(text) ? null : text;
        }

        private static long? ReadLong(PSObject input, string name)
        {
            var value = Read(input, name);
            switch (value)
            {
                case null:
                    return null;
                case long l:
                    return l;
                case int i:
                    return i;
                case string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed):
                    return parsed;
                default:
                    return null;
            }
        }

        private static DateTimeOffset? ReadDate(PSObject input, string name)
        {
            var value = Read(input, name);
            switch (value)
            {
                case DateTimeOffset offset:
                    return offset == default ? (DateTimeOffset?)null : offset;
                case DateTime date:
                    return new DateTimeOffset(date);
                case string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed):
                    return parsed;
                case string s when DateTimeOffset.TryParse(s, CultureInfo.CurrentCulture, DateTimeStyles.AssumeUniversal, out var local):
                    return local;
                default:
                    return null;
            }
        }
    }
}

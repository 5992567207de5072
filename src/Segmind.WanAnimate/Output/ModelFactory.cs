using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using Segmind.Client;

namespace Segmind.WanAnimate.Output
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

        /// <summary>
        /// A result object from the core's answer. <paramref name="completionSeen"/>: this very answer showed the job
        /// completing (a wait), so its time is the completion time.
        /// </summary>
        public static WanAnimateResult ToResult(JobResult result, JobInputs? inputs, string? responseUrl, bool completionSeen = true)
        {
            var output = new WanAnimateResult
            {
                RequestId = result.RequestId,
                Status = result.Status,
                Output = result.Output,
                ResponseUrl = responseUrl,
                Cost = result.Cost,
                InferenceTime = result.InferenceTime,
                QueueTime = MetricValues.Number(result.Metrics, "queue_time"),
                Metrics = ToHashtable(result.Metrics),
            };
            var completedAt = inputs?.CompletedAt ?? CompletionTime(result, inputs?.SubmittedAt, output, completionSeen);
            output.CompletedAt = IsoTimestamp.Of(completedAt);
            inputs?.ApplyTo(output);
            output.Duration = IsoTimestamp.DurationBetween(inputs?.SubmittedAt, completedAt);
            return output;
        }

        /// <summary>
        /// When the job completed: the moment a wait saw it, else (fetched later) the submit time plus the server's
        /// queue and inference times, never after the fetch; unknown without either.
        /// </summary>
        private static DateTimeOffset? CompletionTime(JobResult result, DateTimeOffset? submittedAt, WanAnimateResult output, bool completionSeen)
        {
            if (completionSeen || result.Status != Segmind.Client.JobState.Completed)
            {
                return result.RetrievedAt;
            }

            if (submittedAt is null || output.QueueTime is null || output.InferenceTime is null)
            {
                return null;
            }

            var byServer = submittedAt.Value.AddSeconds(output.QueueTime.Value + output.InferenceTime.Value);
            return byServer < result.RetrievedAt ? byServer : result.RetrievedAt;
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

            // Without its own time, the object is as fresh as now (wall time, as every time the module shows).
            var completedAt = IsoTimestamp.Parse(result.CompletedAt) ?? DateTimeOffset.UtcNow;
            return new JobResult(result.RequestId, result.Status, null, metrics, result.Output, completedAt);
        }

        public static MetricTable ToHashtable(IReadOnlyDictionary<string, object?>? values)
        {
            var table = new MetricTable();
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

        /// <summary>A completion time the input already knew (a result exported earlier): kept rather than re-derived.</summary>
        public DateTimeOffset? CompletedAt { get; set; }
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
            SubmittedAt = IsoTimestamp.Parse(job.SubmittedAt),
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
                        SubmittedAt = IsoTimestamp.Parse(result.SubmittedAt),
                        CompletedAt = IsoTimestamp.Parse(result.CompletedAt),
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
                CompletedAt = ReadDate(input!, "CompletedAt"),
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
            SubmittedAt is null && CompletedAt is null && InputVideo is null && ReferenceImage is null && Prompt is null && Mode is null
            && Resolution is null && Seed is null && RowId is null && Row is null;

        public void ApplyTo(WanAnimateResult result)
        {
            result.SubmittedAt = IsoTimestamp.Of(SubmittedAt);
            result.InputVideo = InputVideo;
            result.ReferenceImage = ReferenceImage;
            result.Prompt = Prompt;
            result.Mode = Mode;
            result.Resolution = Resolution;
            result.Seed = Seed;
            result.RowId = RowId;
            result.Row = Row;
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
                case string text:
                    return IsoTimestamp.Parse(text);
                default:
                    return null;
            }
        }
    }
}

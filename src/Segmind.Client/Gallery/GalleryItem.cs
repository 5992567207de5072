using System;

namespace Segmind.Client.Gallery
{
    /// <summary>Where a gallery row stands, for the summary, the filter and the card's badge.</summary>
    public enum GalleryOutcome
    {
        Pending,
        Completed,
        Failed,

        /// <summary>No job, or none known: not submitted, refused, released, or a submit whose outcome is unknown.</summary>
        Other,
    }

    /// <summary>One card of a batch gallery: a row's inputs and how its job ended. Plain values, all optional but the status.</summary>
    public sealed class GalleryItem
    {
        public string? RowId { get; set; }

        /// <summary>1-based position of the row in the pipeline that submitted it; orders the cards.</summary>
        public int? Row { get; set; }

        public string? RequestId { get; set; }

        /// <summary>The status as the source said it (COMPLETED, FAILED, QUEUED, saved, unknown...).</summary>
        public string Status { get; set; } = string.Empty;

        public string? Prompt { get; set; }
        public string? Mode { get; set; }
        public string? Resolution { get; set; }
        public long? Seed { get; set; }
        public string? InputVideo { get; set; }
        public string? ReferenceImage { get; set; }

        /// <summary>The saved video on disk.</summary>
        public string? OutputFile { get; set; }

        /// <summary>The output as the server gave it: a URL, or base64 text (never linked).</summary>
        public string? Output { get; set; }

        public double? Cost { get; set; }

        /// <summary>The server's inference time, in seconds.</summary>
        public double? InferenceTime { get; set; }

        public DateTimeOffset? SubmittedAt { get; set; }
        public DateTimeOffset? CompletedAt { get; set; }

        /// <summary>From submit to completion.</summary>
        public TimeSpan? Duration { get; set; }

        /// <summary>The server's message for a failure (or why the row has no job).</summary>
        public string? Error { get; set; }

        /// <summary>The status as one of four outcomes.</summary>
        public GalleryOutcome Outcome => Classify(Status);

        /// <summary>The key that makes two records of one row one card: the row id, else the request id.</summary>
        public string Key => !string.IsNullOrEmpty(RowId) ? "row:" + RowId : "request:" + (RequestId ?? string.Empty);

        public static GalleryOutcome Classify(string? status)
        {
            switch ((status ?? string.Empty).Trim().ToUpperInvariant())
            {
                case "COMPLETED":
                case "SAVED":
                case "SUCCEEDED":
                    return GalleryOutcome.Completed;
                case "FAILED":
                case "ERROR":
                case "EXPIRED":
                    // Expired (a ledger entry Segmind answered 404 for): no video will come, as for a failure.
                    return GalleryOutcome.Failed;
                case "QUEUED":
                case "PROCESSING":
                case "IN_PROGRESS":
                case "IN_QUEUE":
                case "PENDING":
                case "SUBMITTED":
                case "RUNNING":
                    return GalleryOutcome.Pending;
                default:
                    return GalleryOutcome.Other;
            }
        }

        /// <summary>
        /// Folds a later record of the same row into this one: values it has replace older ones, and an ended
        /// status is never taken back by a record that still says pending.
        /// </summary>
        public void MergeFrom(GalleryItem later)
        {
            if (later is null)
            {
                throw new ArgumentNullException(nameof(later));
            }

            var ended = Outcome == GalleryOutcome.Completed || Outcome == GalleryOutcome.Failed;
            if (!string.IsNullOrEmpty(later.Status) && !(ended && later.Outcome == GalleryOutcome.Pending))
            {
                Status = later.Status;
                if (later.Outcome == GalleryOutcome.Completed)
                {
                    Error = null;
                }
            }

            RowId ??= later.RowId;
            Row = later.Row ?? Row;
            RequestId = later.RequestId ?? RequestId;
            Prompt = later.Prompt ?? Prompt;
            Mode = later.Mode ?? Mode;
            Resolution = later.Resolution ?? Resolution;
            Seed = later.Seed ?? Seed;
            InputVideo = later.InputVideo ?? InputVideo;
            ReferenceImage = later.ReferenceImage ?? ReferenceImage;
            OutputFile = later.OutputFile ?? OutputFile;
            Output = later.Output ?? Output;
            Cost = later.Cost ?? Cost;
            InferenceTime = later.InferenceTime ?? InferenceTime;
            SubmittedAt = later.SubmittedAt ?? SubmittedAt;
            CompletedAt = later.CompletedAt ?? CompletedAt;
            Duration = later.Duration ?? Duration;
            Error = later.Error ?? Error;
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Segmind.Client.Gallery
{
    /// <summary>What the page says around the cards, and how it decides what to link.</summary>
    public sealed class GalleryOptions
    {
        /// <summary>The folder the page is written to: local files are linked relative to it.</summary>
        public string PageDirectory { get; set; } = string.Empty;

        public string Title { get; set; } = "Wan Animate batch";

        /// <summary>"Now", to tell whether a remote output has expired: wall time, as the journal's record times are.</summary>
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        /// <summary>How long Segmind keeps a result, counted from submission (from completion when the submit time is unknown).</summary>
        public TimeSpan ResultRetention { get; set; } = TimeSpan.FromHours(1);

        /// <summary>Whether a saved file is still there (replaceable for tests).</summary>
        public Func<string, bool> FileExists { get; set; } = File.Exists;
    }

    /// <summary>
    /// Renders a batch as one self-contained HTML page: a summary, filter and sort controls, and one card per row.
    /// Every value is escaped; only http(s) addresses and relative paths to local files are linked or embedded.
    /// </summary>
    public static class GalleryRenderer
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>
        /// Merges records of the same job (later ones win) and orders the cards by row position, then id. Records
        /// of one row id that name two different request ids are two jobs (a ledger lists every run's job of a row)
        /// and stay two cards: merging them would show one job's video beside another's prompt and count one cost.
        /// </summary>
        public static IReadOnlyList<GalleryItem> Combine(IEnumerable<GalleryItem> records)
        {
            if (records is null)
            {
                throw new ArgumentNullException(nameof(records));
            }

            var byKey = new Dictionary<string, GalleryItem>(StringComparer.Ordinal);
            var order = new List<GalleryItem>();
            foreach (var record in records)
            {
                if (record is null)
                {
                    continue;
                }

                var existing = FindSameJob(byKey, record);
                if (existing is null)
                {
                    existing = record;
                    order.Add(record);
                }
                else
                {
                    existing.MergeFrom(record);
                }

                // A row's later record may be keyed by request id only (an error record), or by row id only.
                byKey[existing.Key] = existing;
                if (!string.IsNullOrEmpty(existing.RequestId))
                {
                    byKey["request:" + existing.RequestId] = existing;
                }
            }

            return order
                .Select((item, index) => (item, index))
                .OrderBy(pair => pair.item.Row ?? int.MaxValue)
                .ThenBy(pair => pair.index)
                .Select(pair => pair.item)
                .ToList();
        }

        /// <summary>The card a record belongs to: the one with its request id, else its row's latest card unless that names another job.</summary>
        private static GalleryItem? FindSameJob(Dictionary<string, GalleryItem> byKey, GalleryItem record)
        {
            if (!string.IsNullOrEmpty(record.RequestId) && byKey.TryGetValue("request:" + record.RequestId, out var sameJob))
            {
                return sameJob;
            }

            if (!byKey.TryGetValue(record.Key, out var sameRow))
            {
                return null;
            }

            var twoJobs = !string.IsNullOrEmpty(record.RequestId) && !string.IsNullOrEmpty(sameRow.RequestId)
                && !string.Equals(record.RequestId, sameRow.RequestId, StringComparison.Ordinal);
            return twoJobs ? null : sameRow;
        }

        public static string Render(IReadOnlyList<GalleryItem> items, GalleryOptions options)
        {
            if (items is null)
            {
                throw new ArgumentNullException(nameof(items));
            }

            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            var summary = GallerySummary.Of(items);
            var html = new StringBuilder(4096 + (items.Count * 1500));
            html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"").Append(GalleryAssets.ContentSecurityPolicy).Append("\">\n")
                .Append("<meta name=\"referrer\" content=\"no-referrer\">\n")
                .Append("<title>").Append(GalleryHtml.Escape(options.Title)).Append("</title>\n")
                .Append("<style>").Append(GalleryAssets.Style).Append("</style>\n</head>\n<body>\n");

            AppendHeader(html, items, summary, options);
            html.Append("<main>\n<ol class=\"cards\" id=\"cards\" aria-label=\"Rows\">\n");
            for (var i = 0; i < items.Count; i++)
            {
                AppendCard(html, items[i], i, options);
            }

            html.Append("</ol>\n</main>\n<script>").Append(GalleryAssets.Script).Append("</script>\n</body>\n</html>\n");
            return html.ToString();
        }

        private static void AppendHeader(StringBuilder html, IReadOnlyList<GalleryItem> items, GallerySummary summary, GalleryOptions options)
        {
            html.Append("<header>\n<h1>").Append(GalleryHtml.Escape(options.Title)).Append("</h1>\n<ul class=\"summary\" aria-label=\"Summary\">\n");
            SummaryItem(html, "Rows", summary.Total.ToString(Invariant));
            SummaryItem(html, "Completed", summary.Completed.ToString(Invariant));
            SummaryItem(html, "Failed", summary.Failed.ToString(Invariant));
            SummaryItem(html, "Pending", summary.Pending.ToString(Invariant));
            if (summary.Other > 0)
            {
                SummaryItem(html, "No job", summary.Other.ToString(Invariant));
            }

            SummaryItem(html, "Total cost", summary.TotalCost.HasValue ? Credits(summary.TotalCost.Value) : "—");
            SummaryItem(html, "Total duration", summary.TotalDuration.HasValue ? Duration(summary.TotalDuration.Value) : "—");
            SummaryItem(html, "Median duration", summary.MedianDuration.HasValue ? Duration(summary.MedianDuration.Value) : "—");
            SummaryItem(html, "Time span", TimeSpanText(summary));
            html.Append("</ul>\n");

            // The controls only work with the script, which shows them.
            html.Append("<form class=\"filters\" id=\"filters\" role=\"search\" aria-label=\"Filter and sort the rows\" hidden>\n");
            Select(html, "f-status", "Status", new[] { ("", "All"), ("completed", "Completed"), ("failed", "Failed"), ("pending", "Pending"), ("other", "No job") });
            Select(html, "f-mode", "Mode", Distinct(items, item => item.Mode));
            Select(html, "f-resolution", "Resolution", Distinct(items, item => item.Resolution));
            html.Append("<label for=\"f-text\">Search<input type=\"search\" id=\"f-text\" placeholder=\"prompt, row, id…\"></label>\n");
            Select(html, "f-sort", "Sort by", new[] { ("order", "Row"), ("rank", "Status (failed first)"), ("cost", "Cost (highest first)"), ("duration", "Duration (longest first)"), ("inference", "Inference time (longest first)") });
            html.Append("</form>\n<p id=\"shown\" role=\"status\" aria-live=\"polite\"></p>\n</header>\n");
        }

        private static void SummaryItem(StringBuilder html, string label, string value) =>
            html.Append("<li><b>").Append(GalleryHtml.Escape(value)).Append("</b>").Append(GalleryHtml.Escape(label)).Append("</li>\n");

        private static (string Value, string Label)[] Distinct(IEnumerable<GalleryItem> items, Func<GalleryItem, string?> field)
        {
            var values = items.Select(field).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!).Distinct(StringComparer.Ordinal).OrderBy(v => v, StringComparer.Ordinal);
            return new[] { (string.Empty, "All") }.Concat(values.Select(v => (v, v))).ToArray();
        }

        private static void Select(StringBuilder html, string id, string label, IEnumerable<(string Value, string Label)> choices)
        {
            html.Append("<label for=\"").Append(id).Append("\">").Append(GalleryHtml.Escape(label)).Append("<select id=\"").Append(id).Append("\">");
            foreach (var (value, text) in choices)
            {
                html.Append("<option value=\"").Append(GalleryHtml.Escape(value)).Append("\">").Append(GalleryHtml.Escape(text)).Append("</option>");
            }

            html.Append("</select></label>\n");
        }

        private static void AppendCard(StringBuilder html, GalleryItem item, int index, GalleryOptions options)
        {
            var outcome = item.Outcome;
            var css = outcome.ToString().ToLowerInvariant();
            var id = "card-" + (index + 1).ToString(Invariant);
            var name = FirstNonEmpty(item.RowId, item.RequestId, "(no id)");
            var rowLabel = item.Row.HasValue ? "Row " + item.Row.Value.ToString(Invariant) + ": " : string.Empty;
            var rank = outcome switch { GalleryOutcome.Failed => 3, GalleryOutcome.Pending => 2, GalleryOutcome.Other => 1, _ => 0 };

            html.Append("<li class=\"card ").Append(css).Append("\" id=\"").Append(id).Append("\" aria-labelledby=\"").Append(id).Append("-title\"")
                .Append(" data-status=\"").Append(css).Append('"')
                .Append(" data-mode=\"").Append(GalleryHtml.Escape(item.Mode)).Append('"')
                .Append(" data-resolution=\"").Append(GalleryHtml.Escape(item.Resolution)).Append('"')
                .Append(" data-order=\"").Append(index.ToString(Invariant)).Append('"')
                .Append(" data-rank=\"").Append(rank.ToString(Invariant)).Append('"');
            DataNumber(html, "cost", item.Cost);
            DataNumber(html, "duration", item.Duration?.TotalSeconds);
            DataNumber(html, "inference", item.InferenceTime);
            html.Append(">\n<h2 id=\"").Append(id).Append("-title\">").Append(GalleryHtml.Escape(rowLabel + name)).Append("</h2>\n")
                .Append("<span class=\"badge\">").Append(GalleryHtml.Escape(StatusText(item))).Append("</span>\n");

            AppendMedia(html, item, rowLabel + name, options);
            html.Append("<p class=\"prompt\">")
                .Append(string.IsNullOrEmpty(item.Prompt) ? "<i>(no prompt)</i>" : GalleryHtml.Escape(item.Prompt)).Append("</p>\n<dl>\n");
            Field(html, "Mode", item.Mode);
            Field(html, "Resolution", item.Resolution);
            Field(html, "Seed", item.Seed?.ToString(Invariant));
            Field(html, "Cost", item.Cost.HasValue ? Credits(item.Cost.Value) : null);
            Field(html, "Inference", item.InferenceTime.HasValue ? Duration(TimeSpan.FromSeconds(Math.Max(0, item.InferenceTime.Value))) : null);
            Field(html, "Duration", item.Duration.HasValue ? Duration(item.Duration.Value) : null);
            Field(html, "Request id", item.RequestId);
            if (!string.IsNullOrEmpty(item.RowId) && item.RowId != name)
            {
                Field(html, "Row id", item.RowId);
            }

            LinkField(html, "Video file", item.OutputFile, options);
            LinkField(html, "Input video", item.InputVideo, options);
            html.Append("</dl>\n");
            if (!string.IsNullOrWhiteSpace(item.Error))
            {
                html.Append("<p class=\"error\"><b>").Append(outcome == GalleryOutcome.Failed ? "Server message: " : "Message: ").Append("</b>")
                    .Append(GalleryHtml.Escape(item.Error)).Append("</p>\n");
            }

            html.Append("</li>\n");
        }

        private static void AppendMedia(StringBuilder html, GalleryItem item, string name, GalleryOptions options)
        {
            html.Append("<div class=\"media\">");
            var (source, note) = VideoSource(item, options);
            if (source != null)
            {
                html.Append("<video controls preload=\"metadata\" src=\"").Append(GalleryHtml.Escape(source)).Append("\" aria-label=\"")
                    .Append(GalleryHtml.Escape("Output video of " + name)).Append("\"></video>");
            }
            else
            {
                html.Append("<p class=\"novideo\">").Append(GalleryHtml.Escape(note)).Append("</p>");
            }

            var image = GalleryHtml.SafeHref(item.ReferenceImage, options.PageDirectory);
            if (image != null)
            {
                html.Append("<img src=\"").Append(GalleryHtml.Escape(image)).Append("\" alt=\"")
                    .Append(GalleryHtml.Escape("Reference image of " + name)).Append("\" loading=\"lazy\" width=\"96\" height=\"96\">");
            }

            html.Append("</div>\n");
            if (note != null && source != null)
            {
                html.Append("<p class=\"note\">").Append(GalleryHtml.Escape(note)).Append("</p>\n");
            }
        }

        /// <summary>The saved file by relative path; else the remote output while Segmind still keeps it; else why there is no video.</summary>
        internal static (string? Source, string? Note) VideoSource(GalleryItem item, GalleryOptions options)
        {
            if (!string.IsNullOrWhiteSpace(item.OutputFile) && options.FileExists(item.OutputFile!))
            {
                var local = GalleryHtml.RelativeFileHref(item.OutputFile!, options.PageDirectory);
                if (local != null)
                {
                    return (local, null);
                }
            }

            if (GalleryHtml.IsHttp(item.Output))
            {
                var from = item.SubmittedAt ?? item.CompletedAt;
                if (!from.HasValue)
                {
                    return (GalleryHtml.SafeHref(item.Output, options.PageDirectory), "Remote output: Segmind keeps it for one hour, so it may have expired.");
                }

                var expires = from.Value + options.ResultRetention;
                if (expires > options.Now)
                {
                    return (GalleryHtml.SafeHref(item.Output, options.PageDirectory), "Remote output, kept by Segmind until " + Instant(expires) + ".");
                }

                return (null, "Not saved, and the remote output expired at " + Instant(expires) + ".");
            }

            if (!string.IsNullOrWhiteSpace(item.OutputFile))
            {
                return (null, options.FileExists(item.OutputFile!) ? "Saved outside this page's drive (see Video file)." : "The saved file is missing.");
            }

            return item.Outcome switch
            {
                GalleryOutcome.Completed => (null, string.IsNullOrEmpty(item.Output) ? "Completed, not saved." : "Completed (base64 output), not saved."),
                GalleryOutcome.Failed when IsExpired(item) => (null, "Expired at Segmind before it was saved: no video."),
                GalleryOutcome.Failed => (null, "Failed: no video."),
                GalleryOutcome.Pending => (null, "Not finished yet."),
                _ => (null, "No job."),
            };
        }

        private static void Field(StringBuilder html, string label, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }

            html.Append("<dt>").Append(GalleryHtml.Escape(label)).Append("</dt><dd>").Append(GalleryHtml.Escape(value)).Append("</dd>\n");
        }

        private static void LinkField(StringBuilder html, string label, string? location, GalleryOptions options)
        {
            if (string.IsNullOrWhiteSpace(location))
            {
                return;
            }

            var href = GalleryHtml.SafeHref(location, options.PageDirectory);
            var shown = GalleryHtml.IsHttp(location) ? location : Path.GetFileName(location!.Trim());
            html.Append("<dt>").Append(GalleryHtml.Escape(label)).Append("</dt><dd>");
            if (href is null)
            {
                html.Append(GalleryHtml.Escape(location));
            }
            else
            {
                html.Append("<a href=\"").Append(GalleryHtml.Escape(href)).Append("\" rel=\"noopener noreferrer\">")
                    .Append(GalleryHtml.Escape(string.IsNullOrEmpty(shown) ? location : shown)).Append("</a>");
            }

            html.Append("</dd>\n");
        }

        private static void DataNumber(StringBuilder html, string name, double? value)
        {
            if (value.HasValue && !double.IsNaN(value.Value) && !double.IsInfinity(value.Value))
            {
                html.Append(" data-").Append(name).Append("=\"").Append(value.Value.ToString("R", Invariant)).Append('"');
            }
        }

        private static bool IsExpired(GalleryItem item) =>
            string.Equals(item.Status?.Trim(), "expired", StringComparison.OrdinalIgnoreCase);

        private static string StatusText(GalleryItem item) =>
            string.IsNullOrWhiteSpace(item.Status) ? "UNKNOWN" : item.Status.Trim().ToUpperInvariant();

        private static string FirstNonEmpty(params string?[] values) => values.First(v => !string.IsNullOrWhiteSpace(v))!;

        private static string Credits(double value) => value.ToString("0.####", Invariant) + " credits";

        internal static string Duration(TimeSpan value)
        {
            if (value.TotalSeconds < 60)
            {
                return value.TotalSeconds.ToString("0.#", Invariant) + " s";
            }

            if (value.TotalHours < 1)
            {
                return ((int)value.TotalMinutes).ToString(Invariant) + " min " + value.Seconds.ToString(Invariant) + " s";
            }

            return ((int)value.TotalHours).ToString(Invariant) + " h " + value.Minutes.ToString(Invariant) + " min";
        }

        private static string Instant(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", Invariant);

        private static string TimeSpanText(GallerySummary summary)
        {
            if (!summary.FirstSubmittedAt.HasValue || !summary.LastActivityAt.HasValue)
            {
                return "—";
            }

            var length = summary.LastActivityAt.Value - summary.FirstSubmittedAt.Value;
            var first = summary.FirstSubmittedAt.Value.ToUniversalTime();
            var last = summary.LastActivityAt.Value.ToUniversalTime();
            return Instant(first) + " – " + (first.Date == last.Date ? last.ToString("HH:mm:ss'Z'", Invariant) : Instant(last))
                + " (" + Duration(length < TimeSpan.Zero ? TimeSpan.Zero : length) + ")";
        }
    }
}

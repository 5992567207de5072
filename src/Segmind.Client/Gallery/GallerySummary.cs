using System;
using System.Collections.Generic;
using System.Linq;

namespace Segmind.Client.Gallery
{
    /// <summary>The batch at a glance: counts by outcome, total cost, durations and the time span.</summary>
    public sealed class GallerySummary
    {
        public int Total { get; private set; }
        public int Completed { get; private set; }
        public int Failed { get; private set; }
        public int Pending { get; private set; }
        public int Other { get; private set; }

        /// <summary>The sum of every known cost; null when no row has one.</summary>
        public double? TotalCost { get; private set; }

        /// <summary>Submit to completion, summed over the rows that have it; null when none has.</summary>
        public TimeSpan? TotalDuration { get; private set; }

        public TimeSpan? MedianDuration { get; private set; }

        /// <summary>The first submit of the batch.</summary>
        public DateTimeOffset? FirstSubmittedAt { get; private set; }

        /// <summary>The last completion (or submit, for rows still running) of the batch.</summary>
        public DateTimeOffset? LastActivityAt { get; private set; }

        public static GallerySummary Of(IEnumerable<GalleryItem> items)
        {
            if (items is null)
            {
                throw new ArgumentNullException(nameof(items));
            }

            var summary = new GallerySummary();
            var durations = new List<TimeSpan>();
            double cost = 0;
            var anyCost = false;
            foreach (var item in items)
            {
                summary.Total++;
                switch (item.Outcome)
                {
                    case GalleryOutcome.Completed: summary.Completed++; break;
                    case GalleryOutcome.Failed: summary.Failed++; break;
                    case GalleryOutcome.Pending: summary.Pending++; break;
                    default: summary.Other++; break;
                }

                if (item.Cost.HasValue && !double.IsNaN(item.Cost.Value) && !double.IsInfinity(item.Cost.Value))
                {
                    cost += item.Cost.Value;
                    anyCost = true;
                }

                if (item.Duration.HasValue && item.Duration.Value >= TimeSpan.Zero)
                {
                    durations.Add(item.Duration.Value);
                }

                summary.FirstSubmittedAt = Earlier(summary.FirstSubmittedAt, item.SubmittedAt);
                summary.LastActivityAt = Later(summary.LastActivityAt, item.CompletedAt ?? item.SubmittedAt);
            }

            summary.TotalCost = anyCost ? cost : (double?)null;
            if (durations.Count > 0)
            {
                summary.TotalDuration = TimeSpan.FromTicks(durations.Sum(d => d.Ticks));
                summary.MedianDuration = Median(durations);
            }

            return summary;
        }

        /// <summary>The middle value; the mean of the two middle values for an even count.</summary>
        public static TimeSpan Median(IReadOnlyList<TimeSpan> values)
        {
            if (values is null || values.Count == 0)
            {
                throw new ArgumentException("The median of nothing is undefined.", nameof(values));
            }

            var sorted = values.OrderBy(v => v).ToList();
            var middle = sorted.Count / 2;
            return sorted.Count % 2 == 1
                ? sorted[middle]
                : TimeSpan.FromTicks((sorted[middle - 1].Ticks + sorted[middle].Ticks) / 2);
        }

        private static DateTimeOffset? Earlier(DateTimeOffset? a, DateTimeOffset? b) =>
            !a.HasValue ? b : !b.HasValue ? a : (a.Value <= b.Value ? a : b);

        private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) =>
            !a.HasValue ? b : !b.HasValue ? a : (a.Value >= b.Value ? a : b);
    }
}

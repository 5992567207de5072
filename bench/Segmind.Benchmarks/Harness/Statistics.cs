namespace Segmind.Benchmarks.Harness;

public static class Statistics
{
    public static double Median(IEnumerable<double> values) => Percentile(values, 0.5);

    /// <summary>Linear interpolation between the closest ranks (the median of an even count is the mean of the middle two).</summary>
    public static double Percentile(IEnumerable<double> values, double fraction)
    {
        var sorted = values.OrderBy(value => value).ToArray();
        if (sorted.Length == 0)
        {
            throw new InvalidOperationException("No samples.");
        }

        var position = fraction * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }
}

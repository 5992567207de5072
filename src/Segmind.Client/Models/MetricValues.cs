using System.Collections.Generic;
using System.Globalization;

namespace Segmind.Client
{
    /// <summary>Reading the server's metrics, whose values arrive as JSON numbers, journaled numbers or text.</summary>
    public static class MetricValues
    {
        /// <summary>The metric <paramref name="name"/> as a number, or null when it is missing or not a number.</summary>
        public static double? Number(IReadOnlyDictionary<string, object?>? metrics, string name)
        {
            if (metrics is null || !metrics.TryGetValue(name, out var value) || value is null)
            {
                return null;
            }

            return value switch
            {
                double d => d,
                long l => l,
                int i => i,
                decimal m => (double)m,
                string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => null,
            };
        }
    }
}

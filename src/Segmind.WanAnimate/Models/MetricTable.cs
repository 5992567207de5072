using System;
using System.Collections;
using System.Globalization;
using Segmind.Client.Json;

namespace Segmind.WanAnimate
{
    /// <summary>
    /// The server's metrics by name (case-insensitive). Its text form is compact JSON, so Export-Csv writes the values
    /// instead of "System.Collections.Hashtable" and ConvertFrom-Json reads them back.
    /// </summary>
    public sealed class MetricTable : Hashtable
    {
        public MetricTable()
            : base(StringComparer.OrdinalIgnoreCase)
        {
        }

        public MetricTable(IDictionary? values)
            : this()
        {
            if (values == null)
            {
                return;
            }

            foreach (DictionaryEntry entry in values)
            {
                this[Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty] = entry.Value;
            }
        }

        public override string ToString() => MetricsJson.ToText(this);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Segmind.WanAnimate.Output
{
    /// <summary>
    /// The file names one run gives its outputs from -FileName or the request id, and never
    /// the same file for two jobs, which would otherwise overwrite each other's video. Safe on any thread.
    /// </summary>
    internal sealed class OutputNames
    {
        private static readonly StringComparer PathComparer =
            Path.DirectorySeparatorChar == '\\' ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

        private readonly Dictionary<string, string> _claimed = new Dictionary<string, string>(PathComparer);

        /// <summary>The file name for one job: the template's, or &lt;RequestId&gt;.mp4 without one. Null with the reason when it cannot be named.</summary>
        public string? NameFor(string? template, string requestId, string? rowId, int? row, out string? problem)
        {
            problem = null;
            if (template == null)
            {
                return OutputFileName.For(requestId);
            }

            return OutputFileName.FromTemplate(template, name =>
            {
                if (string.Equals(name, "RequestId", StringComparison.OrdinalIgnoreCase))
                {
                    return requestId;
                }

                if (string.Equals(name, "Row", StringComparison.OrdinalIgnoreCase))
                {
                    return row?.ToString(CultureInfo.InvariantCulture);
                }

                return rowId;
            }, out problem);
        }

        /// <summary>
        /// Takes <paramref name="path"/> for <paramref name="owner"/> (e.g. "job abc" or "row 3"); false, with the reason,
        /// when another owner of this run has it.
        /// </summary>
        public bool Claim(string path, string owner, out string? collision)
        {
            collision = null;
            var full = Path.GetFullPath(path);
            lock (_claimed)
            {
                if (_claimed.TryGetValue(full, out var holder) && !string.Equals(holder, owner, StringComparison.Ordinal))
                {
                    collision = "-FileName gives " + owner + " the name '" + full + "', which " + holder
                        + " of this run already has; refused. Use a placeholder that differs per row, such as {RequestId} or {Row}.";
                    return false;
                }

                _claimed[full] = owner;
                return true;
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;

namespace Segmind.Client
{
    /// <summary>
    /// Compares a row's inputs with those its journal row was submitted with, so a re-run that reuses an Id for other
    /// inputs is caught instead of silently handing back the old job.
    /// </summary>
    public static class JournalInputs
    {
        /// <summary>
        /// The parameters (InputVideo, Prompt, ...) whose values differ from the journaled submit; empty when they all
        /// match or the row was never submitted. Local paths and URLs are compared as journaled (without queries).
        /// </summary>
        public static IReadOnlyList<string> Differences(JournalRow row, WanAnimateRequest request)
        {
            if (row is null)
            {
                throw new ArgumentNullException(nameof(row));
            }

            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            var differing = new List<string>();
            if (row.InputFingerprint is null || string.Equals(row.InputFingerprint, BatchJournal.InputFingerprint(request), StringComparison.Ordinal))
            {
                return differing;
            }

            var inputs = row.Inputs;
            if (inputs is null)
            {
                differing.Add("inputs");
                return differing;
            }

            Compare(differing, "InputVideo", Text(inputs, "input_video"), BatchJournal.RedactLocation(request.InputVideo), StringComparison.Ordinal);
            Compare(differing, "ReferenceImage", Text(inputs, "reference_image"), BatchJournal.RedactLocation(request.ReferenceImage), StringComparison.Ordinal);
            Compare(differing, "Prompt", Prompt(Text(inputs, "prompt")), Prompt(request.Prompt), StringComparison.Ordinal);
            Compare(differing, "Mode", Text(inputs, "mode"), request.Mode, StringComparison.OrdinalIgnoreCase);
            Compare(differing, "Resolution", Text(inputs, "resolution"), request.Resolution, StringComparison.OrdinalIgnoreCase);
            Compare(differing, "Seed", Text(inputs, "seed"), request.Seed.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            Compare(differing, "Base64", Text(inputs, "base64"), request.Base64 ? "True" : "False", StringComparison.OrdinalIgnoreCase);

            // Same journaled values yet another fingerprint: a query string or a local file's path differs.
            if (differing.Count == 0)
            {
                differing.Add("InputVideo or ReferenceImage (beyond what the journal keeps)");
            }

            return differing;
        }

        private static void Compare(List<string> differing, string field, string? journaled, string? now, StringComparison comparison)
        {
            if (!string.Equals((journaled ?? string.Empty).Trim(), (now ?? string.Empty).Trim(), comparison))
            {
                differing.Add(field);
            }
        }

        private static string? Text(IReadOnlyDictionary<string, object?> inputs, string name) =>
            inputs.TryGetValue(name, out var value) && value != null ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

        private static string Prompt(string? prompt) => (prompt ?? string.Empty).Replace("\r\n", "\n").Replace('\r', '\n').Trim();
    }
}

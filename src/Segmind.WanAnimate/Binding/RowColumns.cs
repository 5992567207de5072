using System;
using System.Globalization;
using System.Management.Automation;
using Segmind.Client;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// The mode, resolution and seed of one input. A value given on the command line wins (ValidateSet checked it);
    /// otherwise a piped row's column of that name (any case, e.g. <c>mode</c>), else the default. A column that is
    /// not valid throws <see cref="SegmindValidationException"/> naming the field, so only that row is refused.
    /// </summary>
    internal readonly struct RowColumns
    {
        private RowColumns(string mode, string resolution, long seed)
        {
            Mode = mode;
            Resolution = resolution;
            Seed = seed;
        }

        public string Mode { get; }

        public string Resolution { get; }

        public long Seed { get; }

        public static RowColumns Read(PSCmdlet cmdlet, PSObject? row, string mode, string resolution, long seed)
        {
            var bound = cmdlet.MyInvocation.BoundParameters;
            var piped = row == null || row.BaseObject is string ? null : row;
            return new RowColumns(
                (bound.ContainsKey("Mode") ? null : Text(piped, "Mode")) ?? mode,
                (bound.ContainsKey("Resolution") ? null : Text(piped, "Resolution")) ?? resolution,
                bound.ContainsKey("Seed") ? seed : (WholeNumber(piped, "Seed") ?? seed));
        }

        private static object? Value(PSObject? row, string name)
        {
            var property = row?.Properties[name];
            if (property == null)
            {
                return null;
            }

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

        /// <summary>The column's text; null when the row has no such column or the cell is empty (the default applies).</summary>
        private static string? Text(PSObject? row, string name)
        {
            var text = Convert.ToString(Value(row, name), CultureInfo.InvariantCulture);
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        private static long? WholeNumber(PSObject? row, string name)
        {
            var value = Value(row, name);
            if (value is null)
            {
                return null;
            }

            if (WholeNumbers.FromNumber(value) is long number)
            {
                return number;
            }

            var text = Convert.ToString(value, CultureInfo.InvariantCulture);
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            if (WholeNumbers.TryParse(text!, out var parsed))
            {
                return parsed;
            }

            throw new SegmindValidationException(name, WholeNumbers.NotAWholeNumber(name, text));
        }
    }
}

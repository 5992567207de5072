using System;
using System.Globalization;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>What counts as a whole number in a bound value or a CSV cell, for parameters and row columns alike.</summary>
    internal static class WholeNumbers
    {
        /// <summary>An integral value, or a double or decimal without a fraction, as a 64-bit integer; null for anything else.</summary>
        public static long? FromNumber(object value) => value switch
        {
            long number => number,
            int or short or byte or sbyte or uint or ushort => Convert.ToInt64(value, CultureInfo.InvariantCulture),
            double real when real == Math.Floor(real) && real >= long.MinValue && real <= long.MaxValue => (long)real,
            decimal exact when exact == decimal.Truncate(exact) && exact >= long.MinValue && exact <= long.MaxValue => (long)exact,
            _ => null,
        };

        /// <summary>Text such as "42" or " -7 ", in any culture.</summary>
        public static bool TryParse(string text, out long number) =>
            long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);

        public static string NotAWholeNumber(string name, object? value) =>
            string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is not a whole number.", name, value);
    }
}

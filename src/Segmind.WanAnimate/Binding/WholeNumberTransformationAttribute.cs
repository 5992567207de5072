using System;
using System.Globalization;
using System.Management.Automation;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// Binds CSV text to a 64-bit integer with a readable error; an empty cell means the documented default.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class WholeNumberTransformationAttribute : ArgumentTransformationAttribute
    {
        public WholeNumberTransformationAttribute(string parameterName, long defaultValue)
        {
            ParameterName = parameterName;
            DefaultValue = defaultValue;
        }

        public string ParameterName { get; }

        public long DefaultValue { get; }

        public override object Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case null:
                    return DefaultValue;
                case long number:
                    return number;
                case int or short or byte or sbyte or uint or ushort:
                    return Convert.ToInt64(value, CultureInfo.InvariantCulture);
                case double real when real == Math.Floor(real) && real >= long.MinValue && real <= long.MaxValue:
                    return (long)real;
                case decimal exact when exact == decimal.Truncate(exact) && exact >= long.MinValue && exact <= long.MaxValue:
                    return (long)exact;
                case string text:
                    if (string.IsNullOrWhiteSpace(text))
                    {
                        return DefaultValue;
                    }

                    if (long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
                    {
                        return parsed;
                    }

                    throw new ArgumentTransformationMetadataException(
                        string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is not a whole number.", ParameterName, text));
                default:
                    throw new ArgumentTransformationMetadataException(
                        string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is not a whole number.", ParameterName, value));
            }
        }
    }
}

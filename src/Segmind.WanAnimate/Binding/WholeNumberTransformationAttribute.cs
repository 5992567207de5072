using System;
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
            if (value is null)
            {
                return DefaultValue;
            }

            if (WholeNumbers.FromNumber(value) is long number)
            {
                return number;
            }

            if (value is string text)
            {
                if (string.IsNullOrWhiteSpace(text))
                {
                    return DefaultValue;
                }

                if (WholeNumbers.TryParse(text, out var parsed))
                {
                    return parsed;
                }
            }

            throw new ArgumentTransformationMetadataException(WholeNumbers.NotAWholeNumber(ParameterName, value));
        }
    }
}

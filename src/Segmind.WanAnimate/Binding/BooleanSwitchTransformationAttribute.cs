using System;
using System.Globalization;
using System.Management.Automation;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// Binds CSV text to a switch: PowerShell would otherwise treat any non-empty string, "false" included, as true.
    /// Accepts true/false, 1/0, yes/no, y/n, $true/$false and empty (= false).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class BooleanSwitchTransformationAttribute : ArgumentTransformationAttribute
    {
        public BooleanSwitchTransformationAttribute(string parameterName)
        {
            ParameterName = parameterName;
        }

        public string ParameterName { get; }

        public override object Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case null:
                    return new SwitchParameter(false);
                case SwitchParameter switchParameter:
                    return switchParameter;
                case bool flag:
                    return new SwitchParameter(flag);
                case int or long or short or byte or sbyte or uint or ulong or ushort:
                    return new SwitchParameter(Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0);
                case string text:
                    if (TryParse(text, out var parsed))
                    {
                        return new SwitchParameter(parsed);
                    }

                    throw new ArgumentTransformationMetadataException(
                        string.Format(CultureInfo.InvariantCulture, "{0} '{1}' is not a boolean: use true, false, 1, 0 or leave it empty.", ParameterName, text));
                default:
                    throw new ArgumentTransformationMetadataException(
                        string.Format(CultureInfo.InvariantCulture, "{0} must be true or false, not a {1}.", ParameterName, value.GetType().Name));
            }
        }

        internal static bool TryParse(string text, out bool value)
        {
            switch (text.Trim().ToLowerInvariant())
            {
                case "":
                case "false":
                case "$false":
                case "0":
                case "no":
                case "n":
                    value = false;
                    return true;
                case "true":
                case "$true":
                case "1":
                case "yes":
                case "y":
                    value = true;
                    return true;
                default:
                    value = false;
                    return false;
            }
        }
    }
}

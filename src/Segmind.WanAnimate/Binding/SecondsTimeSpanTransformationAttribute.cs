using System;
using System.Globalization;
using System.Management.Automation;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// Reads a bare number as seconds ("-Timeout 600"), where PowerShell would read it as ticks; anything else
    /// ("00:30:00", a TimeSpan) goes through PowerShell's own conversion.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class SecondsTimeSpanTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case int or long or short or byte or uint or ushort or double or float or decimal:
                    return TimeSpan.FromSeconds(Convert.ToDouble(value, CultureInfo.InvariantCulture));
                case string text when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds):
                    return TimeSpan.FromSeconds(seconds);
                default:
                    return inputData;
            }
        }
    }
}

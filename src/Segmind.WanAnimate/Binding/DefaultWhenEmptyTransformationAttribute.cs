using System;
using System.Management.Automation;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// An empty CSV cell means "use the default", not "invalid": it is replaced before ValidateSet sees it.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class DefaultWhenEmptyTransformationAttribute : ArgumentTransformationAttribute
    {
        public DefaultWhenEmptyTransformationAttribute(string defaultValue)
        {
            DefaultValue = defaultValue;
        }

        public string DefaultValue { get; }

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            if (value is null || (value is string text && string.IsNullOrWhiteSpace(text)))
            {
                return DefaultValue;
            }

            return value is string s ? s.Trim() : inputData;
        }
    }
}

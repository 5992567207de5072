using System;
using System.Management.Automation;
using System.Security;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// Lets -ApiKey take a plain string as well as a SecureString. The string is turned into a SecureString at
    /// binding time, so the plain value never sits in bound parameters, InvocationInfo or error records.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class SecureStringTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case null:
                    return null;
                case SecureString secure:
                    return secure;
                case string text:
                    var result = new SecureString();
                    foreach (var c in text)
                    {
                        result.AppendChar(c);
                    }

                    result.MakeReadOnly();
                    return result;
                default:
                    // Never echo the value: it may be the key in some other shape.
                    throw new ArgumentTransformationMetadataException("The API key must be a string or a SecureString.");
            }
        }
    }
}

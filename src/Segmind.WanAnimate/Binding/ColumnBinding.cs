using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using Segmind.Client;

namespace Segmind.WanAnimate.Binding
{
    /// <summary>
    /// A piped row may name each parameter once: a CSV with both <c>input_video</c> and <c>InputVideo</c> columns would
    /// have PowerShell bind one of them silently, so such a row is refused naming both columns.
    /// </summary>
    internal static class ColumnBinding
    {
        private static readonly ConcurrentDictionary<Type, KeyValuePair<string, string[]>[]> Names =
            new ConcurrentDictionary<Type, KeyValuePair<string, string[]>[]>();

        public static void EnsureOneColumnPerParameter(PSObject? row, Type cmdletType)
        {
            if (row == null || row.BaseObject is string)
            {
                return;
            }

            foreach (var parameter in Names.GetOrAdd(cmdletType, BindableNames))
            {
                List<string>? found = null;
                foreach (var property in row.Properties)
                {
                    if (parameter.Value.Any(name => string.Equals(name, property.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        (found ??= new List<string>()).Add(property.Name);
                    }
                }

                if (found != null && found.Count > 1)
                {
                    throw new SegmindValidationException(
                        parameter.Key,
                        $"The row has the columns '{string.Join("' and '", found)}', which all set {parameter.Key}; keep only one of them.");
                }
            }
        }

        /// <summary>Each parameter bound from piped properties, with every name that binds it (its own and its aliases).</summary>
        private static KeyValuePair<string, string[]>[] BindableNames(Type cmdletType) =>
            cmdletType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetCustomAttributes<ParameterAttribute>(true).Any(a => a.ValueFromPipelineByPropertyName))
                .Select(p => new KeyValuePair<string, string[]>(
                    p.Name,
                    new[] { p.Name }.Concat(p.GetCustomAttributes<AliasAttribute>(true).SelectMany(a => a.AliasNames)).ToArray()))
                .Where(pair => pair.Value.Length > 1)
                .ToArray();
    }
}

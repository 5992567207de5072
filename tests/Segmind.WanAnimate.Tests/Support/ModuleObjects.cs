using System.Management.Automation;

namespace Segmind.WanAnimate.Tests.Support;

/// <summary>
/// The tests load the module the way users do, from out/, and never reference its assembly; so its objects are
/// read through PowerShell's own property view.
/// </summary>
public static class ModuleObjects
{
    public const string Namespace = "Segmind.WanAnimate.";

    public static bool IsModuleType(this PSObject value, string typeName) =>
        value.BaseObject.GetType().FullName == Namespace + typeName;

    public static T? Get<T>(this PSObject value, string property)
    {
        var member = value.Properties[property] ?? throw new InvalidOperationException($"{value.BaseObject.GetType().Name} has no property {property}.");
        var raw = member.Value is PSObject wrapped ? wrapped.BaseObject : member.Value;
        return raw is null ? default : (T)raw;
    }

    public static string? Text(this PSObject value, string property) => value.Get<object>(property)?.ToString();
}

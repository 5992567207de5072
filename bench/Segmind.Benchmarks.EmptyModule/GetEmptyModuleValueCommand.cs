using System.Management.Automation;

namespace Segmind.Benchmarks.EmptyModule
{
    /// <summary>Does nothing useful: it exists so the baseline module exports a cmdlet, like any binary module.</summary>
    [Cmdlet(VerbsCommon.Get, "EmptyModuleValue")]
    [OutputType(typeof(int))]
    public sealed class GetEmptyModuleValueCommand : PSCmdlet
    {
        protected override void ProcessRecord() => WriteObject(0);
    }
}

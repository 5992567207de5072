using System.Management.Automation;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// Writes a cmdlet's verbose lines. PowerShell turns every verbose line of a compiled cmdlet into a
    /// "Continue with this operation?" prompt when -Debug is given without -Verbose (and fails where nothing can answer,
    /// as in a runbook); so under -Debug alone the same lines go to the debug stream instead.
    /// </summary>
    internal static class VerboseLines
    {
        public static void Write(Cmdlet cmdlet, string message)
        {
            if (DebugWithoutVerbose(cmdlet))
            {
                cmdlet.WriteDebug(message);
            }
            else
            {
                cmdlet.WriteVerbose(message);
            }
        }

        private static bool DebugWithoutVerbose(Cmdlet cmdlet)
        {
            if (!(cmdlet is PSCmdlet script))
            {
                return false;
            }

            var bound = script.MyInvocation.BoundParameters;
            return !bound.ContainsKey("Verbose")
                && bound.TryGetValue("Debug", out var debug)
                && (!(debug is SwitchParameter flag) || flag.IsPresent);
        }
    }
}

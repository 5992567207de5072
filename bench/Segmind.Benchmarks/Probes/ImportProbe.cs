using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Segmind.Benchmarks.Harness;

namespace Segmind.Benchmarks.Probes;

/// <summary>
/// <c>--import-probe &lt;psd1&gt;</c>: in this fresh process, opens a default PowerShell 7 runspace and times one
/// Import-Module of the manifest. Prints the milliseconds.
/// </summary>
public static class ImportProbe
{
    public const string Argument = "--import-probe";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count != 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine(Argument + " needs the path of an existing module manifest.");
            return 2;
        }

        var open = Stopwatch.StartNew();
        using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        open.Stop();

        // The engine's first pipeline has costs of its own; both modules would pay them, which would only blur the ratio.
        using (var first = PowerShell.Create())
        {
            first.Runspace = runspace;
            first.AddScript("$null").Invoke();
        }

        using var shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddCommand("Import-Module").AddParameter("Name", args[0]).AddParameter("PassThru").AddParameter("ErrorAction", ActionPreference.Stop);
        var import = Stopwatch.StartNew();
        var modules = shell.Invoke();
        import.Stop();

        var module = modules.Select(m => m.BaseObject).OfType<PSModuleInfo>().FirstOrDefault();
        if (shell.HadErrors || module == null || module.ExportedCmdlets.Count == 0)
        {
            Console.Error.WriteLine("Import-Module did not load a module with cmdlets from " + args[0] + ": "
                + string.Join(" | ", shell.Streams.Error.Select(e => e.ToString())));
            return 1;
        }

        ChildProcess.WriteResult(new Dictionary<string, double>
        {
            ["import_ms"] = import.Elapsed.TotalMilliseconds,
            ["open_ms"] = open.Elapsed.TotalMilliseconds,
            ["cmdlets"] = module.ExportedCmdlets.Count,
        });
        return 0;
    }
}

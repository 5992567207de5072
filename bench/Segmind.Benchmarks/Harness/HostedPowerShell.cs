using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Segmind.Benchmarks.Harness;

/// <summary>
/// A runspace of the real PowerShell 7 engine with the module imported by its manifest, the way users load it. The
/// emulator's address and key are per-runspace default parameter values, so nothing leaks through the environment.
/// </summary>
public sealed class HostedPowerShell : IDisposable
{
    private readonly Runspace _runspace;

    public HostedPowerShell(string moduleManifest, Uri? baseUri = null, string? apiKey = null)
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        Run("Import-Module -Name $args[0] -ErrorAction Stop", moduleManifest);
        if (baseUri != null)
        {
            Run("$PSDefaultParameterValues['*:BaseUri'] = $args[0]", baseUri.AbsoluteUri);
        }

        if (apiKey != null)
        {
            Run("$PSDefaultParameterValues['*:ApiKey'] = $args[0]", apiKey);
        }
    }

    public void SetVariable(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

    /// <summary>Runs a script to its end; a terminating error, or any error written, is thrown (a figure must not count a broken run).</summary>
    public Collection<PSObject> Run(string script, params object?[] arguments)
    {
        using var shell = PowerShell.Create();
        shell.Runspace = _runspace;
        shell.AddScript(script);
        foreach (var argument in arguments)
        {
            shell.AddArgument(argument);
        }

        var output = shell.Invoke();
        if (shell.Streams.Error.Count > 0)
        {
            var first = shell.Streams.Error.Take(3).Select(error => error.FullyQualifiedErrorId + ": " + error);
            throw new InvalidOperationException(shell.Streams.Error.Count + " error(s) from the script, e.g. " + string.Join(" | ", first));
        }

        return output;
    }

    public void Dispose() => _runspace.Dispose();
}

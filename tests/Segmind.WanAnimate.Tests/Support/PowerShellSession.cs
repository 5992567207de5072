using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Segmind.WanAnimate.Tests.Support;

/// <summary>
/// A runspace of the real PowerShell engine with the built module imported by its manifest, the way users load
/// it. The emulator's address and key are given as per-runspace default parameter values, never through the
/// process environment, which all test classes share.
/// </summary>
public sealed class PowerShellSession : IDisposable
{
    private readonly Runspace _runspace;

    public PowerShellSession(Uri? baseUri, string? apiKey, bool importModule = true)
    {
        _runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        _runspace.Open();
        if (importModule)
        {
            Run("Import-Module -Name $args[0] -ErrorAction Stop", RepositoryPaths.ModuleManifest).ThrowOnError();
        }

        if (baseUri != null)
        {
            Run("$PSDefaultParameterValues['*:BaseUri'] = $args[0]", baseUri.AbsoluteUri).ThrowOnError();
        }

        if (apiKey != null)
        {
            Run("$PSDefaultParameterValues['*:ApiKey'] = $args[0]", apiKey).ThrowOnError();
        }
    }

    public Runspace Runspace => _runspace;

    /// <summary>Runs a script to the end; a terminating error is captured, not thrown.</summary>
    public ScriptResult Run(string script, params object?[] arguments)
    {
        using var shell = CreateShell(script, arguments);
        var result = new ScriptResult(shell.Streams);
        try
        {
            result.Output.AddRange(shell.Invoke());
        }
        catch (RuntimeException ex)
        {
            result.Terminating = ex;
        }

        result.CaptureStreams();
        return result;
    }

    /// <summary>
    /// Runs a command that should stop with a terminating error and returns that error (try/catch only sees
    /// terminating errors; non-terminating ones pass it by and are written to the error stream).
    /// </summary>
    public ErrorRecord? CatchTerminating(string script, params object?[] arguments)
    {
        var result = Run("try { " + script + " } catch { [pscustomobject]@{ Caught = $_ } }", arguments);
        return result.Output.Select(o => o.Properties["Caught"]?.Value).OfType<PSObject>().Select(p => p.BaseObject).OfType<ErrorRecord>().FirstOrDefault()
            ?? result.Output.Select(o => o.Properties["Caught"]?.Value).OfType<ErrorRecord>().FirstOrDefault();
    }

    public PowerShell CreateShell(string script, params object?[] arguments)
    {
        var shell = PowerShell.Create();
        shell.Runspace = _runspace;
        shell.AddScript(script);
        foreach (var argument in arguments)
        {
            shell.AddArgument(argument);
        }

        return shell;
    }

    public void SetVariable(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

    public void Dispose() => _runspace.Dispose();
}

/// <summary>Everything a script produced.</summary>
public sealed class ScriptResult
{
    private readonly PSDataStreams _streams;

    public ScriptResult(PSDataStreams streams)
    {
        _streams = streams;
    }

    public List<PSObject> Output { get; } = new();

    public List<ErrorRecord> Errors { get; } = new();

    public List<ProgressRecord> Progress { get; } = new();

    public List<WarningRecord> Warnings { get; } = new();

    public List<VerboseRecord> Verbose { get; } = new();

    public List<InformationRecord> Information { get; } = new();

    public RuntimeException? Terminating { get; set; }

    /// <summary>The output objects of one of the module's types, e.g. "WanAnimateResult".</summary>
    public List<PSObject> Objects(string moduleTypeName) => Output.Where(o => o.IsModuleType(moduleTypeName)).ToList();

    public ScriptResult ThrowOnError()
    {
        if (Terminating != null)
        {
            throw new InvalidOperationException("Script failed: " + Terminating.ErrorRecord, Terminating);
        }

        if (Errors.Count > 0)
        {
            throw new InvalidOperationException("Script wrote errors:\n" + string.Join("\n", Errors.Select(e => e.FullyQualifiedErrorId + ": " + e)));
        }

        return this;
    }

    internal void CaptureStreams()
    {
        Errors.AddRange(_streams.Error);
        Progress.AddRange(_streams.Progress);
        Warnings.AddRange(_streams.Warning);
        Verbose.AddRange(_streams.Verbose);
        Information.AddRange(_streams.Information);
    }

    public string Describe() =>
        string.Join("\n", Errors.Select(e => e.FullyQualifiedErrorId + ": " + e))
        + (Terminating == null ? string.Empty : "\nTerminating: " + Terminating.ErrorRecord.FullyQualifiedErrorId + ": " + Terminating.Message);
}

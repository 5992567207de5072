using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.Json;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// Imports the built module (out/Segmind.WanAnimate) into a real PowerShell engine once, and records for every
/// exported cmdlet both what Get-Help says and what the cmdlet really declares, so tests can compare the two.
/// </summary>
public sealed class HelpModuleFixture : IDisposable
{
    public const string ModuleName = "Segmind.WanAnimate";
    public const string AboutTopicName = "about_Segmind.WanAnimate";

    // Runs inside the engine: flattens Get-Help's objects and the cmdlet's metadata into JSON for plain C# records.
    // Only engine cmdlets are available in a hosted engine (no Utility module), hence hashtables and System.Text.Json.
    private const string DescribeCommandsScript = """
        param([string] $ModuleName)
        function Get-HelpText($Value) {
            $parts = foreach ($item in @($Value)) {
                if ($null -eq $item) { continue }
                if ($item -is [string]) { $item }
                elseif ($item.PSObject.Properties['Text']) { [string] $item.Text }
            }
            [string] ((@($parts) | Where-Object { $_ -and $_.Trim() }) -join "`n")
        }
        foreach ($command in @(Get-Command -Module $ModuleName -CommandType Cmdlet)) {
            $help = Get-Help -Name $command.Name -Full -ErrorAction Stop
            $helpParameters = @(foreach ($p in @($help.parameters.parameter)) {
                if ($null -eq $p) { continue }
                @{
                    Name          = [string] $p.name
                    Description   = [string] (Get-HelpText $p.description)
                    Required      = [string] $p.required
                    Position      = [string] $p.position
                    PipelineInput = [string] $p.pipelineInput
                    Aliases       = [string] $p.aliases
                    TypeName      = [string] $p.type.name
                }
            })
            $syntaxItems = @(foreach ($item in @($help.syntax.syntaxItem)) {
                if ($null -eq $item) { continue }
                @{
                    Parameters = [object[]] @(foreach ($p in @($item.parameter)) {
                        if ($null -eq $p) { continue }
                        @{ Name = [string] $p.name; Required = [string] $p.required; Position = [string] $p.position }
                    })
                }
            })
            $examples = @(foreach ($example in @($help.examples.example)) {
                if ($null -eq $example) { continue }
                @{ Title = [string] $example.title; Code = [string] $example.code; Remarks = [string] (Get-HelpText $example.remarks) }
            })
            $sets = @(foreach ($set in $command.ParameterSets) {
                @{
                    Name       = [string] $set.Name
                    Parameters = [object[]] @(foreach ($p in $set.Parameters) {
                        @{
                            Name           = [string] $p.Name
                            Mandatory      = [bool] $p.IsMandatory
                            Position       = [int] $p.Position
                            ByValue        = [bool] $p.ValueFromPipeline
                            ByPropertyName = [bool] $p.ValueFromPipelineByPropertyName
                            Aliases        = [string[]] @($p.Aliases)
                            # Help names the type a user passes: TimeSpan, not Nullable[TimeSpan].
                            TypeName       = [string] $(if ([Nullable]::GetUnderlyingType($p.ParameterType)) { [Nullable]::GetUnderlyingType($p.ParameterType).FullName } else { $p.ParameterType.FullName })
                            Hidden         = [bool] @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }).Count
                        }
                    })
                }
            })
            $names = [string[]] @(foreach ($p in $command.Parameters.Values) { $p.Name; $p.Aliases })
            $description = @{
                Name        = [string] $command.Name
                Synopsis    = [string] $help.Synopsis
                Description = [string] (Get-HelpText $help.description)
                Examples    = [object[]] $examples
                Parameters  = [object[]] $helpParameters
                SyntaxItems = [object[]] $syntaxItems
                Sets        = [object[]] $sets
                ParameterNamesAndAliases = $names
            }
            [System.Text.Json.JsonSerializer]::Serialize($description, [hashtable])
        }
        """;

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private readonly PowerShellSession _session;
    private readonly object _gate = new();

    public HelpModuleFixture()
    {
        if (!File.Exists(RepositoryPaths.ModuleManifest))
        {
            throw new InvalidOperationException($"The module is not laid out at {RepositoryPaths.ModuleManifest}; build the solution first.");
        }

        _session = new PowerShellSession(baseUri: null, apiKey: null);
        Commands = Run(DescribeCommandsScript, ModuleName).ThrowOnError().Output
            .Select(o => JsonSerializer.Deserialize<CommandDescription>((string)o.BaseObject, JsonOptions)!)
            .ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

        var about = Run("Get-Help -Name $args[0] -ErrorAction Stop", AboutTopicName);
        var aboutText = string.Join(Environment.NewLine, about.Output.Select(o => o.ToString()));
        AboutTopicText = about.Terminating is null && about.Errors.Count == 0 && aboutText.Contains("SHORT DESCRIPTION", StringComparison.Ordinal)
            ? aboutText
            : null;
    }

    public string RepoRoot => RepositoryPaths.RepositoryRoot;

    public string ModuleDirectory => RepositoryPaths.ModuleDirectory;

    /// <summary>Every exported cmdlet, by name.</summary>
    public IReadOnlyDictionary<string, CommandDescription> Commands { get; }

    /// <summary>The about topic as Get-Help shows it in this engine, or null when a hosted engine cannot find about topics.</summary>
    public string? AboutTopicText { get; }

    public ScriptResult Run(string script, params object?[] arguments)
    {
        // One runspace runs one pipeline at a time.
        lock (_gate)
        {
            return _session.Run(script, arguments);
        }
    }

    /// <summary>
    /// Uses of this module's cmdlets with a parameter name that is neither a parameter nor an alias of the cmdlet
    /// (common parameters included). Abbreviated names count as unknown: scripts and examples spell names out.
    /// </summary>
    public IEnumerable<string> FindUnknownParameterUses(Ast ast, string where)
    {
        foreach (var commandAst in ast.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>())
        {
            var name = commandAst.GetCommandName();
            if (name is null || !Commands.TryGetValue(name, out var command))
            {
                continue;
            }

            var known = new HashSet<string>(command.ParameterNamesAndAliases, StringComparer.OrdinalIgnoreCase);
            foreach (var parameter in commandAst.CommandElements.OfType<CommandParameterAst>())
            {
                if (!known.Contains(parameter.ParameterName))
                {
                    yield return $"{where} line {parameter.Extent.StartLineNumber}: {name} has no parameter -{parameter.ParameterName}";
                }
            }
        }
    }

    /// <summary>
    /// Whether help must document the parameter: everything but the common parameters and hidden (DontShow) ones.
    /// WhatIf and Confirm stay: help documents them for cmdlets that support ShouldProcess.
    /// </summary>
    public static bool IsDocumentableParameter(RealParameter parameter) =>
        !Cmdlet.CommonParameters.Contains(parameter.Name)
        && !string.Equals(parameter.Name, "UseTransaction", StringComparison.OrdinalIgnoreCase)
        && !parameter.Hidden;

    public void Dispose() => _session.Dispose();
}

[CollectionDefinition(Name)]
public sealed class HelpModuleCollection : ICollectionFixture<HelpModuleFixture>
{
    public const string Name = "Imported module help";
}

public sealed record CommandDescription(
    string Name,
    string? Synopsis,
    string? Description,
    HelpExample[] Examples,
    HelpParameter[] Parameters,
    HelpSyntaxItem[] SyntaxItems,
    RealParameterSet[] Sets,
    string[] ParameterNamesAndAliases)
{
    /// <summary>The parameters a user can see, each once: everything declared except the common parameters and hidden ones.</summary>
    public IReadOnlyList<RealParameter> VisibleParameters =>
        Sets.SelectMany(s => s.Parameters)
            .Where(HelpModuleFixture.IsDocumentableParameter)
            .GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            .ToList();
}

public sealed record HelpExample(string? Title, string? Code, string? Remarks);

public sealed record HelpParameter(string Name, string? Description, string? Required, string? Position, string? PipelineInput, string? Aliases, string? TypeName);

public sealed record HelpSyntaxItem(HelpSyntaxParameter[] Parameters);

public sealed record HelpSyntaxParameter(string Name, string? Required, string? Position);

public sealed record RealParameterSet(string Name, RealParameter[] Parameters);

public sealed record RealParameter(string Name, bool Mandatory, int Position, bool ByValue, bool ByPropertyName, string[] Aliases, string TypeName, bool Hidden);

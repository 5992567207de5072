using System.Management.Automation.Language;
using System.Xml.Linq;
using Xunit;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// Offline help must describe the cmdlets as they really are: every parameter the cmdlet has (and nothing else),
/// its parameter sets, aliases and pipeline input, with examples that use real parameters.
/// </summary>
[Collection(HelpModuleCollection.Name)]
public sealed class HelpTests
{
    private static readonly string[] ContractCmdlets =
    {
        "New-WanAnimateJob", "Get-WanAnimateStatus", "Wait-WanAnimateJob",
        "Invoke-WanAnimate", "Save-WanAnimateOutput", "Get-SegmindCredit", "Export-WanAnimateGallery", "Get-WanAnimateJob",
    };

    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";

    private readonly HelpModuleFixture _module;

    public HelpTests(HelpModuleFixture module) => _module = module;

    [Fact]
    public void ModuleExportsEveryContractCmdlet()
    {
        var missing = ContractCmdlets.Where(name => !_module.Commands.ContainsKey(name)).ToList();

        Assert.True(missing.Count == 0, "Not exported: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryCmdletHasAWrittenSynopsisAndDescription()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            var synopsis = (command.Synopsis ?? string.Empty).Trim();
            // Without a help file, Get-Help makes the synopsis up from the syntax, which starts with the name.
            if (synopsis.Length == 0 || synopsis.StartsWith(command.Name, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{command.Name}: no written synopsis (got '{synopsis}')");
            }

            if (string.IsNullOrWhiteSpace(command.Description))
            {
                problems.Add($"{command.Name}: no description");
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void EveryCmdletHasAtLeastTwoExamplesWithCodeAndRemarks()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            if (command.Examples.Length < 2)
            {
                problems.Add($"{command.Name}: {command.Examples.Length} example(s)");
            }

            foreach (var example in command.Examples)
            {
                if (string.IsNullOrWhiteSpace(example.Code) || string.IsNullOrWhiteSpace(example.Remarks))
                {
                    problems.Add($"{command.Name}: example '{example.Title}' lacks code or remarks");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void EveryParameterOfEveryCmdletHasADescription()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            var documented = command.Parameters.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
            foreach (var parameter in command.VisibleParameters)
            {
                if (!documented.TryGetValue(parameter.Name, out var help))
                {
                    problems.Add($"{command.Name} -{parameter.Name}: not in help");
                }
                else if (string.IsNullOrWhiteSpace(help.Description))
                {
                    problems.Add($"{command.Name} -{parameter.Name}: no description");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void HelpDocumentsNoParameterTheCmdletLacks()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            var real = new HashSet<string>(command.VisibleParameters.Select(p => p.Name), StringComparer.OrdinalIgnoreCase);
            var documented = command.Parameters.Select(p => p.Name)
                .Concat(command.SyntaxItems.SelectMany(s => s.Parameters).Select(p => p.Name));
            problems.AddRange(documented.Where(name => !real.Contains(name)).Distinct(StringComparer.OrdinalIgnoreCase)
                .Select(name => $"{command.Name}: help documents -{name}, which the cmdlet does not have"));
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void HelpSyntaxMatchesTheParameterSets()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            // A set is its parameters with what a user must know to call it: mandatory (!) and position (@n).
            var real = command.Sets
                .Select(set => Canonical(set.Parameters.Where(HelpModuleFixture.IsDocumentableParameter)
                    .Select(p => Token(p.Name, p.Mandatory, p.Position >= 0 ? p.Position.ToString() : null))))
                .OrderBy(s => s, StringComparer.OrdinalIgnoreCase)
                .ToList();
            var documented = command.SyntaxItems
                .Select(item => Canonical(item.Parameters.Select(p => Token(
                    p.Name,
                    string.Equals(p.Required, "true", StringComparison.OrdinalIgnoreCase),
                    IsNamed(p.Position) ? null : p.Position))))
                .OrderBy(s => s, StringComparer.OrdinalIgnoreCase)
                .ToList();
            if (!real.SequenceEqual(documented, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{command.Name}:\n  cmdlet sets: {string.Join("\n               ", real)}\n  help syntax: {string.Join("\n               ", documented)}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void DocumentedAliasesPipelineInputTypesAndPositionsMatchTheCmdlet()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            foreach (var help in command.Parameters)
            {
                var declarations = command.Sets.SelectMany(s => s.Parameters)
                    .Where(p => string.Equals(p.Name, help.Name, StringComparison.OrdinalIgnoreCase))
                    .ToList();
                if (declarations.Count == 0)
                {
                    continue; // Reported by HelpDocumentsNoParameterTheCmdletLacks.
                }

                var where = $"{command.Name} -{help.Name}";
                var realAliases = declarations[0].Aliases.OrderBy(a => a, StringComparer.OrdinalIgnoreCase);
                var helpAliases = SplitAliases(help.Aliases).OrderBy(a => a, StringComparer.OrdinalIgnoreCase);
                if (!realAliases.SequenceEqual(helpAliases, StringComparer.OrdinalIgnoreCase))
                {
                    problems.Add($"{where}: aliases are '{string.Join(", ", realAliases)}', help says '{help.Aliases}'");
                }

                var byValue = declarations.Any(p => p.ByValue);
                var byPropertyName = declarations.Any(p => p.ByPropertyName);
                var pipeline = help.PipelineInput ?? string.Empty;
                if (byValue != pipeline.Contains("ByValue", StringComparison.OrdinalIgnoreCase)
                    || byPropertyName != pipeline.Contains("ByPropertyName", StringComparison.OrdinalIgnoreCase)
                    || (!byValue && !byPropertyName && !pipeline.StartsWith("False", StringComparison.OrdinalIgnoreCase)))
                {
                    problems.Add($"{where}: pipeline input is ByValue={byValue}, ByPropertyName={byPropertyName}; help says '{pipeline}'");
                }

                if (!string.Equals(help.TypeName, declarations[0].TypeName, StringComparison.Ordinal))
                {
                    problems.Add($"{where}: type is {declarations[0].TypeName}, help says {help.TypeName}");
                }

                var positions = declarations.Select(p => p.Position).Distinct().ToList();
                if (positions.Count == 1)
                {
                    var expected = positions[0] >= 0 ? positions[0].ToString() : "named";
                    if (!string.Equals(expected, help.Position, StringComparison.OrdinalIgnoreCase))
                    {
                        problems.Add($"{where}: position is {expected}, help says {help.Position}");
                    }
                }

                var mandatoryEverywhere = declarations.All(p => p.Mandatory);
                if (mandatoryEverywhere != string.Equals(help.Required, "true", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{where}: mandatory in every set = {mandatoryEverywhere}, help says required={help.Required}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void ExamplesParseAndUseOnlyRealParameters()
    {
        var problems = new List<string>();
        foreach (var command in _module.Commands.Values)
        {
            foreach (var example in command.Examples)
            {
                var where = $"{command.Name} '{example.Title?.Trim('-', ' ')}'";
                var ast = Parser.ParseInput(example.Code ?? string.Empty, out _, out var errors);
                problems.AddRange(errors.Select(e => $"{where}: {e.Message}"));
                problems.AddRange(_module.FindUnknownParameterUses(ast, where));
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void ExamplesCoverTheBatchRunbookEmulatorAndResumeScenarios()
    {
        var allCode = string.Join("\n", _module.Commands.Values.SelectMany(c => c.Examples).Select(e => e.Code));

        Assert.Contains("Import-Csv batch.csv | New-WanAnimateJob | Wait-WanAnimateJob | Save-WanAnimateOutput -Directory out", allCode);
        Assert.Contains("Get-AutomationPSCredential", allCode);
        Assert.Contains("-BaseUri http://127.0.0.1:5080", allCode);
        Assert.Contains("WanAnimate.WaitTimeout", allCode);
    }

    [Fact]
    public void HelpFileNamesExactlyTheExportedCmdlets()
    {
        var maml = XDocument.Load(Path.Combine(_module.ModuleDirectory, "en-US", "Segmind.WanAnimate.dll-Help.xml"));
        var documented = maml.Descendants(Command + "command")
            .Select(c => (string?)c.Element(Command + "details")?.Element(Command + "name"))
            .OrderBy(n => n, StringComparer.OrdinalIgnoreCase)
            .ToList();

        Assert.Equal(_module.Commands.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), documented, StringComparer.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Segmind.WanAnimate.dll-Help.xml")]
    [InlineData("about_Segmind.WanAnimate.help.txt")]
    public void ModuleFolderShipsTheCurrentHelpFiles(string fileName)
    {
        var shipped = Path.Combine(_module.ModuleDirectory, "en-US", fileName);
        var source = Path.Combine(_module.RepoRoot, "src", "Segmind.WanAnimate", "en-US", fileName);

        Assert.True(File.Exists(shipped), $"{shipped} is missing: the build must copy en-US/* into the module folder.");
        Assert.Equal(File.ReadAllText(source), File.ReadAllText(shipped));
    }

    [Fact]
    public void AboutTopicExplainsCostsLifetimeEmulatorEnvironmentAndErrors()
    {
        // A hosted engine may not look for about topics in imported modules; the shipped file says the same.
        var text = _module.AboutTopicText
            ?? File.ReadAllText(Path.Combine(_module.ModuleDirectory, "en-US", "about_Segmind.WanAnimate.help.txt"));

        Assert.True(text.Length > 4000, $"The about topic is only {text.Length} characters long.");
        foreach (var expected in new[]
                 {
                     HelpModuleFixture.AboutTopicName, "SHORT DESCRIPTION", "LONG DESCRIPTION", "SEGMIND_API_KEY", "SEGMIND_BASE_URL",
                     "1 hour", "cancel", "emulator", "WanAnimate.NoApiKey", "WanAnimate.Unauthorized", "WanAnimate.Forbidden",
                     "WanAnimate.NotFound", "WanAnimate.InsufficientCredits", "WanAnimate.RateLimited", "WanAnimate.ServerError",
                     "WanAnimate.WaitTimeout", "WanAnimate.InvalidArgument", "WanAnimate.BadRequest", "WanAnimate.JobFailed",
                     "WanAnimate.SubmitOutcomeUnknown", "WanAnimate.ProtocolError", "WanAnimate.NotCompleted", "WanAnimate.FileError",
                 })
        {
            Assert.Contains(expected, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static string Token(string name, bool mandatory, string? position) =>
        name + (mandatory ? "!" : string.Empty) + (position is null ? string.Empty : "@" + position);

    private static string Canonical(IEnumerable<string> tokens) =>
        string.Join(" ", tokens.OrderBy(t => t, StringComparer.OrdinalIgnoreCase));

    private static bool IsNamed(string? position) =>
        string.IsNullOrWhiteSpace(position) || string.Equals(position, "named", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> SplitAliases(string? aliases) =>
        (aliases ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => !string.Equals(a, "none", StringComparison.OrdinalIgnoreCase));
}

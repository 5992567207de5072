using System.Management.Automation.Language;
using Segmind.WanAnimate.Tests.Support;
using Xunit;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// The Pester scenarios and build.ps1 are not run here (no pwsh on the build machines), so at least keep them
/// parse-clean and calling the module's cmdlets with parameters that exist.
/// </summary>
[Collection(HelpModuleCollection.Name)]
public sealed class PesterFileTests
{
    private readonly HelpModuleFixture _module;

    public PesterFileTests(HelpModuleFixture module) => _module = module;

    public static TheoryData<string> ScriptFiles()
    {
        var root = RepositoryPaths.RepositoryRoot;
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "Pester"), "*.Tests.ps1").OrderBy(f => f, StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(root, file));
        }

        data.Add("build.ps1");
        return data;
    }

    [Fact]
    public void ThereArePesterScenarioFiles()
    {
        var files = Directory.GetFiles(Path.Combine(_module.RepoRoot, "tests", "Pester"), "*.Tests.ps1");

        Assert.NotEmpty(files);
    }

    [Theory]
    [MemberData(nameof(ScriptFiles))]
    public void ScriptParsesWithoutErrors(string relativePath)
    {
        Parser.ParseFile(Path.Combine(_module.RepoRoot, relativePath), out _, out var errors);

        Assert.True(errors.Length == 0, string.Join("\n", errors.Select(e => $"{relativePath}:{e.Extent.StartLineNumber}: {e.Message}")));
    }

    [Theory]
    [MemberData(nameof(ScriptFiles))]
    public void ScriptCallsModuleCmdletsOnlyWithRealParameters(string relativePath)
    {
        var ast = Parser.ParseFile(Path.Combine(_module.RepoRoot, relativePath), out _, out _);

        var problems = _module.FindUnknownParameterUses(ast, relativePath).ToList();

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryPesterFileDescribesScenariosAndCleansUp()
    {
        var problems = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(_module.RepoRoot, "tests", "Pester"), "*.Tests.ps1"))
        {
            var ast = Parser.ParseFile(file, out _, out _);
            var commands = ast.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true).Cast<CommandAst>()
                .Select(c => c.GetCommandName())
                .Where(n => n is not null)
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var required in new[] { "Describe", "It", "BeforeAll" })
            {
                if (!commands.Contains(required!))
                {
                    problems.Add($"{Path.GetFileName(file)}: no {required} block");
                }
            }

            // A file that starts something in BeforeAll must stop it in AfterAll.
            if (commands.Contains("Start-Process") && !commands.Contains("AfterAll"))
            {
                problems.Add($"{Path.GetFileName(file)}: starts a process but has no AfterAll");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}

using System.Management.Automation;
using System.Reflection;
using System.Xml.Linq;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>What the module presents to PowerShell: its manifest, commands, types, views and the out/ folder layout.</summary>
public sealed class ModuleSurfaceTests : IClassFixture<EmulatorFixture>
{
    private static readonly string[] Cmdlets =
    {
        "Export-WanAnimateGallery", "Get-SegmindCredit", "Get-WanAnimateJob", "Get-WanAnimateStatus", "Invoke-WanAnimate", "New-WanAnimateJob", "Save-WanAnimateOutput", "Wait-WanAnimateJob",
    };

    private readonly EmulatorFixture _emulator;

    public ModuleSurfaceTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
    }

    [Fact]
    public void The_module_exports_exactly_its_cmdlets()
    {
        using var session = _emulator.OpenSession();

        var commands = session.Run("Get-Command -Module Segmind.WanAnimate").ThrowOnError().Output.Select(o => (CommandInfo)o.BaseObject).ToList();

        Assert.Equal(Cmdlets, commands.Select(c => c.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray());
        Assert.All(commands, c => Assert.Equal(CommandTypes.Cmdlet, c.CommandType));
    }

    [Fact]
    public void The_manifest_lists_cmdlets_explicitly_and_declares_both_editions_and_the_assembly_version()
    {
        using var session = _emulator.OpenSession();
        var text = File.ReadAllText(RepositoryPaths.ModuleManifest);
        session.SetVariable("manifestText", text);

        var data = (System.Collections.Hashtable)session.Run(
            "$block = [scriptblock]::Create($manifestText); $block.CheckRestrictedLanguage([string[]]@(), [string[]]@(), $false); & $block").ThrowOnError().Output.Single().BaseObject;
        var module = (PSModuleInfo)session.Run("Get-Module Segmind.WanAnimate").ThrowOnError().Output.Single().BaseObject;

        var listed = ((object[])data["CmdletsToExport"]!).Cast<string>().OrderBy(n => n, StringComparer.Ordinal).ToArray();
        Assert.Equal(Cmdlets, listed);
        Assert.DoesNotContain(listed, n => n.Contains('*'));
        Assert.Equal(new[] { "Core", "Desktop" }, ((object[])data["CompatiblePSEditions"]!).Cast<string>().OrderBy(e => e).ToArray());
        Assert.Equal("Segmind.WanAnimate.dll", data["RootModule"]);
        Assert.Equal(Version.Parse((string)data["ModuleVersion"]!), module.Version);
        Assert.Equal(Cmdlets, module.ExportedCmdlets.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray());

        var assemblyVersion = AssemblyName.GetAssemblyName(Path.Combine(RepositoryPaths.ModuleDirectory, "Segmind.WanAnimate.dll")).Version!;
        Assert.Equal(module.Version, new Version(assemblyVersion.Major, assemblyVersion.Minor, assemblyVersion.Build));
        Assert.Equal(File.ReadAllText(RepositoryPaths.SourceManifest), text);
    }

    [Theory]
    [InlineData("New-WanAnimateJob", "Segmind.WanAnimate.WanAnimateJob")]
    [InlineData("Get-WanAnimateStatus", "Segmind.WanAnimate.WanAnimateStatus")]
    [InlineData("Wait-WanAnimateJob", "Segmind.WanAnimate.WanAnimateResult")]
    [InlineData("Invoke-WanAnimate", "Segmind.WanAnimate.WanAnimateResult,Segmind.WanAnimate.WanAnimateJob")]
    [InlineData("Save-WanAnimateOutput", "Segmind.WanAnimate.WanAnimateResult")]
    [InlineData("Get-SegmindCredit", "Segmind.WanAnimate.SegmindCredit")]
    [InlineData("Export-WanAnimateGallery", "System.IO.FileInfo")]
    [InlineData("Get-WanAnimateJob", "Segmind.WanAnimate.WanAnimateLedgerEntry")]
    public void Each_cmdlet_declares_its_output_types(string cmdlet, string types)
    {
        using var session = _emulator.OpenSession();

        var declared = session.Run("(Get-Command $args[0]).OutputType.Name", cmdlet).ThrowOnError().Output.Select(o => (string)o.BaseObject).Distinct().ToArray();

        Assert.Equal(types.Split(',').OrderBy(t => t), declared.OrderBy(t => t));
    }

    [Fact]
    public void Parameters_carry_their_aliases_validation_and_pipeline_binding()
    {
        using var session = _emulator.OpenSession();

        string[] Aliases(string cmdlet, string parameter) =>
            session.Run("(Get-Command $args[0]).Parameters[$args[1]].Aliases", cmdlet, parameter).ThrowOnError().Output.Select(o => (string)o.BaseObject).ToArray();
        string[] ValidValues(string cmdlet, string parameter) =>
            session.Run("(Get-Command $args[0]).Parameters[$args[1]].Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object { $_.ValidValues }", cmdlet, parameter)
                .ThrowOnError().Output.Select(o => (string)o.BaseObject).ToArray();

        foreach (var cmdlet in new[] { "New-WanAnimateJob", "Invoke-WanAnimate" })
        {
            Assert.Equal(new[] { "input_video", "Video" }, Aliases(cmdlet, "InputVideo"));
            Assert.Equal(new[] { "reference_image", "Image" }, Aliases(cmdlet, "ReferenceImage"));
            Assert.Equal(new[] { "RowId" }, Aliases(cmdlet, "Id"));
            Assert.Equal(new[] { "animation", "replace" }, ValidValues(cmdlet, "Mode"));
            Assert.Equal(new[] { "480p", "576p", "720p" }, ValidValues(cmdlet, "Resolution"));
        }

        Assert.Equal(new[] { "request_id", "Id" }, Aliases("Wait-WanAnimateJob", "RequestId"));
        Assert.Equal(new[] { "status_url" }, Aliases("Wait-WanAnimateJob", "StatusUrl"));
        Assert.Equal(new[] { "response_url" }, Aliases("Wait-WanAnimateJob", "ResponseUrl"));
        Assert.Equal(new[] { "request_id", "Id" }, Aliases("Get-WanAnimateStatus", "RequestId"));

        var shouldProcess = session.Run(
            "'New-WanAnimateJob','Invoke-WanAnimate','Save-WanAnimateOutput','Export-WanAnimateGallery' | ForEach-Object { (Get-Command $_).Parameters.ContainsKey('WhatIf') }").ThrowOnError();
        Assert.All(shouldProcess.Output, o => Assert.Equal(true, o.BaseObject));
        var apiKeyType = session.Run("(Get-Command Get-SegmindCredit).Parameters['ApiKey'].ParameterType.FullName").ThrowOnError();
        Assert.Equal("System.Security.SecureString", apiKeyType.Output.Single().BaseObject);
    }

    [Fact]
    public void Output_objects_read_as_their_request_id()
    {
        using var session = _emulator.OpenSession();

        var texts = session.Run(
            """
            "$([Segmind.WanAnimate.WanAnimateJob]@{ RequestId = 'req-1' })"
            "$([Segmind.WanAnimate.WanAnimateStatus]@{ RequestId = 'req-2' })"
            "$([Segmind.WanAnimate.WanAnimateResult]@{ RequestId = 'req-3' })"
            """).ThrowOnError().Output.Select(o => (string)o.BaseObject).ToArray();

        Assert.Equal(new[] { "req-1", "req-2", "req-3" }, texts);
    }

    [Fact]
    public void The_format_file_has_a_table_view_for_every_output_type()
    {
        var formatFile = Path.Combine(RepositoryPaths.ModuleDirectory, "Segmind.WanAnimate.format.ps1xml");
        var views = XDocument.Load(formatFile).Descendants("View").ToList();

        foreach (var type in new[] { "WanAnimateJob", "WanAnimateStatus", "WanAnimateResult", "SegmindCredit", "WanAnimateLedgerEntry" })
        {
            var view = Assert.Single(views, v => v.Element("ViewSelectedBy")?.Element("TypeName")?.Value == "Segmind.WanAnimate." + type);
            Assert.NotNull(view.Element("TableControl"));
        }

        var jobColumns = views.Single(v => v.Element("Name")!.Value.EndsWith("WanAnimateJob", StringComparison.Ordinal))
            .Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value).ToArray();
        Assert.Equal(new[] { "RowId", "RequestId", "Status", "Mode" }, jobColumns);

        using var session = _emulator.OpenSession();
        var loaded = session.Run("(Get-Module Segmind.WanAnimate).ExportedFormatFiles").ThrowOnError();
        Assert.Equal(Path.GetFullPath(formatFile), Path.GetFullPath((string)loaded.Output.Single().BaseObject));
    }

    [Fact]
    public void The_out_folder_holds_the_module_its_core_and_only_private_dependencies()
    {
        var directory = RepositoryPaths.ModuleDirectory;
        Assert.True(File.Exists(Path.Combine(directory, "Segmind.WanAnimate.dll")));
        Assert.True(File.Exists(Path.Combine(directory, "Segmind.Client.dll")));
        Assert.True(File.Exists(Path.Combine(directory, "Segmind.WanAnimate.psd1")));
        var dependencies = Directory.GetFiles(Path.Combine(directory, "dependencies")).Select(Path.GetFileName).ToArray();
        Assert.Contains("System.Text.Json.dll", dependencies);
        Assert.Contains("System.Memory.dll", dependencies);
        Assert.Contains("Microsoft.Bcl.AsyncInterfaces.dll", dependencies);
        Assert.Empty(Directory.GetFiles(directory, "System.Management.Automation.dll", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(directory, "System.Text.Json.dll", SearchOption.TopDirectoryOnly));
    }

    [Fact]
    public void The_module_imports_into_a_session_that_already_loaded_System_Text_Json()
    {
        using var session = new PowerShellSession(baseUri: null, apiKey: null, importModule: false);

        var result = session.Run(
            """
            [System.Text.Json.JsonSerializer]::Serialize(1, [int])
            Import-Module $args[0] -ErrorAction Stop
            Get-SegmindCredit -ApiKey $args[1] -BaseUri $args[2]
            """,
            RepositoryPaths.ModuleManifest,
            EmulatorFixture.ApiKey,
            _emulator.Server.BaseUri);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        Assert.Equal("1", result.Output[0].BaseObject);
        Assert.Single(result.Objects("SegmindCredit"));
    }

    [Fact]
    public void Removing_and_importing_again_in_the_same_session_works()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(
            "Remove-Module Segmind.WanAnimate; Import-Module $args[0] -ErrorAction Stop; Get-SegmindCredit",
            RepositoryPaths.ModuleManifest).ThrowOnError();

        Assert.Single(result.Objects("SegmindCredit"));
    }
}

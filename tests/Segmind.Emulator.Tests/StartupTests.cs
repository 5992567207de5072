using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class StartupTests
{
    [Fact]
    public async Task In_process_server_binds_a_free_loopback_port()
    {
        await using var first = await EmulatorServer.StartAsync(new EmulatorOptions());
        await using var second = await EmulatorServer.StartAsync(new EmulatorOptions());

        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(first.BaseUri.Host)));
        Assert.NotEqual(0, first.BaseUri.Port);
        Assert.NotEqual(first.BaseUri.Port, second.BaseUri.Port);
        Assert.EndsWith("/", first.BaseUri.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal(new Uri(first.BaseUri, "upload-asset"), first.UploadUri);

        using var client = Client(first);
        using var health = await client.GetAsync("_emulator/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://192.0.2.10:0")]
    public async Task Non_loopback_address_is_refused_without_allow_remote(string url)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(new EmulatorOptions { Urls = url }));
        Assert.Contains("--allow-remote", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.0.1:0")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://some-host-name:5080")]
    public async Task Unusable_address_is_refused(string url)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(new EmulatorOptions { Urls = url }));
    }

    [Fact]
    public async Task Invalid_options_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(new EmulatorOptions { TimeScale = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(new EmulatorOptions { Workers = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => EmulatorServer.StartAsync(new EmulatorOptions { UploadUrlsField = "links" }));
    }

    [Fact]
    public void Command_line_binds_the_emulator_section()
    {
        var options = Program.ParseOptions(new[]
        {
            "--Emulator:TimeScale=0.01",
            "--Emulator:ApiKeys:0=first-key",
            "--Emulator:ApiKeys:1=second-key",
            "--Emulator:CostPerJob=2.5",
            "--Emulator:Faults:Status:ServerErrorProbability=0.25",
            "--Emulator:FaultSeed=7",
        });

        Assert.Equal(0.01, options.TimeScale);
        Assert.Equal(new[] { "first-key", "second-key" }, options.ApiKeys);
        Assert.Equal(2.5m, options.CostPerJob);
        Assert.Equal(0.25, options.Faults.Status.ServerErrorProbability);
        Assert.Equal(7, options.FaultSeed);
        Assert.Equal(EmulatorOptions.DefaultCommandLineUrl, options.Urls);
        Assert.False(options.AllowRemote);
    }

    [Fact]
    public void Command_line_takes_urls_and_allow_remote()
    {
        var options = Program.ParseOptions(new[] { "--urls", "http://127.0.0.1:6000", "--allow-remote" });
        Assert.Equal("http://127.0.0.1:6000", options.Urls);
        Assert.True(options.AllowRemote);
        Assert.Equal(new[] { EmulatorOptions.DefaultApiKey }, options.ApiKeys);
    }

    [Theory]
    [InlineData("--Emulator:TimeScal=0.1")]
    [InlineData("--Emulatr:TimeScale=0.1")]
    [InlineData("--Emulator:TimeScale=fast")]
    [InlineData("--Emulator:Workers=0")]
    public void Command_line_mistakes_are_reported(string argument)
    {
        var error = Record.Exception(() => Program.ParseOptions(new[] { argument }));
        Assert.True(error is ArgumentException or InvalidOperationException, error?.GetType().Name);
    }

    [Fact]
    public void Help_lists_every_option()
    {
        var help = Program.HelpText();
        foreach (var property in typeof(EmulatorOptions).GetProperties().Where(p => p.Name is not ("Faults" or "Urls" or "AllowRemote")))
        {
            Assert.Contains("--Emulator:" + property.Name, help, StringComparison.Ordinal);
        }

        foreach (var property in typeof(FaultProfile).GetProperties())
        {
            Assert.Contains("--Emulator:Faults:<Group>:" + property.Name, help, StringComparison.Ordinal);
        }

        Assert.Contains("--urls", help, StringComparison.Ordinal);
        Assert.Contains("--allow-remote", help, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_option_is_described_in_the_help_and_named_in_the_README()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Segmind.Emulator", "README.md"));
        var options = typeof(EmulatorOptions).GetProperties().Where(p => p.Name is not ("Faults" or "Urls" or "AllowRemote"))
            .Concat(typeof(FaultProfile).GetProperties());
        foreach (var property in options)
        {
            var description = property.GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), inherit: false)
                .Cast<System.ComponentModel.DescriptionAttribute>().SingleOrDefault()?.Description;
            Assert.False(string.IsNullOrWhiteSpace(description), property.Name + " has no description for --help.");
            Assert.True(readme.Contains("`" + property.Name, StringComparison.Ordinal), property.Name + " is not named in the emulator's README.");
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Segmind.PowerShell.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Segmind.PowerShell.sln) was not found above " + AppContext.BaseDirectory);
    }
}

using System.Management.Automation;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>Bad rows are refused before anything is sent, named by row and field, and do not stop the other rows.</summary>
public sealed class RowValidationTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;

    public RowValidationTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    private const string MixedRows = """
        $good = @{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = 'fine'; Mode = 'replace'; Resolution = '480p'; Seed = '1' }
        function Row([hashtable]$change) { $r = $good.Clone(); foreach ($k in $change.Keys) { $r[$k] = $change[$k] }; [pscustomobject]$r }
        $rows = @(
            (Row @{ Prompt = 'row one' })
            (Row @{ Mode = 'dance' })
            (Row @{ Resolution = '1080p' })
            (Row @{ Prompt = '' })
            (Row @{ InputVideo = 'no/such/motion.mp4' })
            (Row @{ Seed = 'abc' })
            (Row @{ ReferenceImage = 'ftp://media.example.com/face.png' })
            (Row @{ Prompt = 'row eight'; Mode = 'ANIMATION' })
        )
        """;

    [Fact]
    public void Each_bad_row_gets_an_error_naming_it_while_good_rows_are_submitted()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(MixedRows + "\n$rows | New-WanAnimateJob");

        Assert.Null(result.Terminating);
        var jobs = result.Objects("WanAnimateJob");
        Assert.Equal(new int?[] { 1, 8 }, jobs.Select(j => j.Get<int?>("Row")).OrderBy(r => r).ToArray());
        Assert.Equal("animation", jobs.Single(j => j.Get<int?>("Row") == 8).Get<string>("Mode"));

        // Nothing reached the server for a bad row: two submits in all, both accepted.
        Assert.Equal(2, _emulator.Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(2, _emulator.Server.Counters.AcceptedSubmits);

        Assert.Equal(6, result.Errors.Count);

        // The module's own checks name the row and the field and point at the row object itself: also for mode,
        // resolution and seed, which the cmdlet reads from the row rather than leaving to the binder.
        AssertRowError(result, 2, "Mode");
        AssertRowError(result, 3, "Resolution");
        AssertRowError(result, 4, "Prompt");
        AssertRowError(result, 5, "InputVideo");
        AssertRowError(result, 6, "Seed");
        AssertRowError(result, 7, "ReferenceImage");
        Assert.DoesNotContain(result.Errors, e => e.Exception is ParameterBindingException);
    }

    [Fact]
    public void The_command_line_keeps_its_validation_sets_and_wins_over_the_row()
    {
        using var session = _emulator.OpenSession();

        var refused = session.Run("New-WanAnimateJob -InputVideo https://media.example.com/in.mp4 -ReferenceImage https://media.example.com/face.png -Prompt p -Mode dance");
        var overridden = session.Run(MixedRows + "\n$rows[1] | New-WanAnimateJob -Mode animation");

        var refusal = refused.Terminating?.ErrorRecord ?? Assert.Single(refused.Errors);
        Assert.StartsWith("ParameterArgumentValidationError,", refusal.FullyQualifiedErrorId);
        Assert.Empty(refused.Objects("WanAnimateJob"));
        Assert.Equal("animation", Assert.Single(overridden.Objects("WanAnimateJob")).Get<string>("Mode"));
    }

    private static void AssertRowError(ScriptResult result, int row, string field)
    {
        var error = Assert.Single(result.Errors, e => e.ToString().StartsWith($"Row {row}:", StringComparison.Ordinal));
        Assert.StartsWith("WanAnimate.InvalidArgument", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains(field, error.ToString());
        var target = Assert.IsType<PSObject>(error.TargetObject);
        Assert.NotNull(target.Properties["InputVideo"]);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
    }

    [Fact]
    public void Invoke_validates_rows_the_same_way()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(MixedRows + "\n$rows | Invoke-WanAnimate -NoWait");

        Assert.Equal(2, result.Objects("WanAnimateJob").Count);
        Assert.Equal(6, result.Errors.Count);
        AssertRowError(result, 4, "Prompt");
        Assert.Equal(2, _emulator.Server.Counters.Requests(EndpointGroup.Submit));
    }

    [Fact]
    public void WhatIf_sends_nothing_not_even_uploads()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        File.WriteAllBytes(directory.File("motion.mp4"), new byte[] { 0, 0, 0, 8, (byte)'f', (byte)'t', (byte)'y', (byte)'p' });

        var result = session.Run(
            """
            $rows = 1..3 | ForEach-Object { [pscustomobject]@{ InputVideo = $args[0]; ReferenceImage = 'https://media.example.com/face.png'; Prompt = "row $_" } }
            $rows | New-WanAnimateJob -WhatIf
            $rows | Invoke-WanAnimate -WhatIf -OutputDirectory $args[1]
            New-WanAnimateJob -InputVideo $args[0] -ReferenceImage https://media.example.com/face.png -Prompt single -WhatIf
            """.Replace("$args[0]", "'" + directory.File("motion.mp4") + "'").Replace("$args[1]", "'" + directory.File("never") + "'"));

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        Assert.Empty(result.Output);
        Assert.Equal(0, _emulator.Server.Counters.TotalRequests);
        Assert.False(Directory.Exists(directory.File("never")));
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    [InlineData("", false)]
    public void Csv_text_binds_to_the_Base64_switch(string cell, bool expected)
    {
        using var session = _emulator.OpenSession();

        var job = session.Run(
            "[pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = 'b64'; Base64 = $args[0] } | New-WanAnimateJob",
            cell).ThrowOnError().Objects("WanAnimateJob").Single();

        Assert.Equal(expected, job.Get<bool>("Base64"));
    }

    [Fact]
    public void Bad_parameters_stop_the_command_before_anything_is_sent()
    {
        using var session = _emulator.OpenSession();

        var timeout = session.CatchTerminating("Wait-WanAnimateJob -RequestId some-id -Timeout 0");
        var baseUri = session.CatchTerminating("Get-SegmindCredit -BaseUri 'not an address'");

        Assert.StartsWith("WanAnimate.InvalidArgument", timeout?.FullyQualifiedErrorId);
        Assert.StartsWith("WanAnimate.InvalidArgument", baseUri?.FullyQualifiedErrorId);
        Assert.Equal(0, _emulator.Server.Counters.TotalRequests);
    }
}

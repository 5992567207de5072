using System.Management.Automation;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>The everyday scenarios: CSV-shaped rows through submit, wait and save; the one-call cmdlet; credits and status.</summary>
public sealed class BatchPipelineTests : IClassFixture<EmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";

    private readonly EmulatorFixture _emulator;

    public BatchPipelineTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    public static TheoryData<string> HeaderStyles => new()
    {
        """
        $rows = @(
            [pscustomobject]@{ InputVideo = 'https://media.example.com/dance.mp4'; ReferenceImage = 'https://media.example.com/hero.png'; Prompt = 'a hero dancing'; Mode = 'animation'; Resolution = '480p'; Seed = '42'; Base64 = 'false'; Id = 'first' }
            [pscustomobject]@{ InputVideo = 'https://media.example.com/walk.mp4'; ReferenceImage = 'https://media.example.com/robot.png'; Prompt = 'a robot walking'; Mode = 'replace'; Resolution = '720p'; Seed = ''; Base64 = ''; Id = '' }
        )
        """,
        """
        $rows = @(
            [pscustomobject]@{ input_video = 'https://media.example.com/dance.mp4'; reference_image = 'https://media.example.com/hero.png'; prompt = 'a hero dancing'; mode = 'animation'; resolution = '480p'; seed = '42'; base64 = '0'; id = 'first' }
            [pscustomobject]@{ input_video = 'https://media.example.com/walk.mp4'; reference_image = 'https://media.example.com/robot.png'; prompt = 'a robot walking'; mode = 'replace'; resolution = '720p'; seed = ''; base64 = ''; id = '' }
        )
        """,
    };

    [Theory]
    [MemberData(nameof(HeaderStyles))]
    public void Csv_rows_flow_through_submit_wait_and_save_into_request_id_named_videos(string rowsScript)
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            rowsScript + $"\n$rows | New-WanAnimateJob | Wait-WanAnimateJob {FastPoll} | Save-WanAnimateOutput -Directory $args[0]",
            directory.Path);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var saved = result.Objects("WanAnimateResult").OrderBy(r => r.Get<int?>("Row")).ToList();
        Assert.Equal(2, saved.Count);
        foreach (var item in saved)
        {
            Assert.Equal("COMPLETED", item.Get<string>("Status"));
            Assert.Equal(Path.Combine(directory.Path, item.Get<string>("RequestId") + ".mp4"), item.Get<string>("OutputFile"));
            Assert.True(Mp4.StartsWithFtypBox(item.Get<string>("OutputFile")!), "The saved file is not an MP4: " + item.Get<string>("OutputFile"));
            Assert.NotNull(item.Get<object>("SubmittedAt"));
            Assert.NotNull(item.Get<object>("Duration"));
        }

        Assert.Equal(new int?[] { 1, 2 }, saved.Select(r => r.Get<int?>("Row")).ToArray());
        Assert.Equal("first", saved[0].Get<string>("RowId"));
        Assert.Equal("animation", saved[0].Get<string>("Mode"));
        Assert.Equal(42L, saved[0].Get<long?>("Seed"));
        Assert.Equal("https://media.example.com/dance.mp4", saved[0].Get<string>("InputVideo"));

        // An empty Id, Seed and Base64 cell mean: hash identity, default seed, no base64.
        Assert.Matches("^auto-[0-9a-f]{32}$", saved[1].Get<string>("RowId"));
        Assert.Equal(987778L, saved[1].Get<long?>("Seed"));
        Assert.Equal("720p", saved[1].Get<string>("Resolution"));
        Assert.Equal(2, _emulator.Server.Counters.AcceptedSubmits);
        Assert.Equal(2, Directory.GetFiles(directory.Path, "*.mp4").Length);
    }

    [Fact]
    public void The_same_inputs_get_the_same_row_identity_across_runs()
    {
        using var session = _emulator.OpenSession();
        const string script = "New-WanAnimateJob -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'same row'";

        var first = session.Run(script).ThrowOnError().Objects("WanAnimateJob").Single();
        var second = session.Run(script).ThrowOnError().Objects("WanAnimateJob").Single();

        Assert.Equal(first.Get<string>("RowId"), second.Get<string>("RowId"));
        Assert.NotEqual(first.Get<string>("RequestId"), second.Get<string>("RequestId"));
        Assert.Equal(first.Get<string>("RequestId"), first.ToString());
        Assert.Equal("QUEUED", first.Get<string>("Status"));
        Assert.StartsWith(_emulator.Server.BaseUri.AbsoluteUri, first.Get<string>("StatusUrl"));
        Assert.StartsWith(_emulator.Server.BaseUri.AbsoluteUri, first.Get<string>("ResponseUrl"));
    }

    [Fact]
    public void Invoke_with_OutFile_saves_one_input_to_exactly_that_file()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var target = directory.File("nested/hero.mp4");

        var result = session.Run(
            $"Invoke-WanAnimate -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'one call' -OutFile $args[0] {FastPoll}",
            target);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var single = Assert.Single(result.Objects("WanAnimateResult"));
        Assert.Equal(target, single.Get<string>("OutputFile"));
        Assert.True(Mp4.StartsWithFtypBox(target));
        Assert.Equal("one call", single.Get<string>("Prompt"));
    }

    [Fact]
    public void Invoke_with_OutFile_refuses_a_second_input_and_sends_nothing_for_it()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            $$"""
            1..2 | ForEach-Object { [pscustomobject]@{ InputVideo = "https://media.example.com/$_.mp4"; ReferenceImage = 'https://media.example.com/a.png'; Prompt = "row $_" } } |
                Invoke-WanAnimate -OutFile $args[0] {{FastPoll}}
            """,
            directory.File("only.mp4"));

        Assert.Single(result.Objects("WanAnimateResult"));
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.InvalidArgument", error.FullyQualifiedErrorId);
        Assert.Contains("Row 2", error.ToString());
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void Invoke_with_OutputDirectory_saves_a_batch_and_NoWait_returns_jobs()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        const string rows = "1..3 | ForEach-Object { [pscustomobject]@{ InputVideo = \"https://media.example.com/$_.mp4\"; ReferenceImage = 'https://media.example.com/a.png'; Prompt = \"row $_\" } }";

        var saved = session.Run(rows + $" | Invoke-WanAnimate -OutputDirectory $args[0] {FastPoll}", directory.File("batch"));
        Assert.True(saved.Errors.Count == 0 && saved.Terminating == null, saved.Describe());
        var results = saved.Objects("WanAnimateResult").ToList();
        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal(Path.Combine(directory.File("batch"), r.Get<string>("RequestId") + ".mp4"), r.Get<string>("OutputFile")));
        Assert.All(results, r => Assert.True(Mp4.StartsWithFtypBox(r.Get<string>("OutputFile")!)));

        var submitted = session.Run(rows + " | Invoke-WanAnimate -NoWait").ThrowOnError();
        var jobs = submitted.Objects("WanAnimateJob").ToList();
        Assert.Equal(3, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("QUEUED", j.Get<string>("Status")));
        Assert.Empty(submitted.Objects("WanAnimateResult"));
    }

    [Fact]
    public void Save_keeps_a_complete_existing_file_and_Force_downloads_again()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var result = session.Run($"Invoke-WanAnimate -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'keep me' {FastPoll}")
            .ThrowOnError().Objects("WanAnimateResult").Single();
        session.SetVariable("result", result);

        var first = session.Run("$result | Save-WanAnimateOutput -Directory $args[0]", directory.Path).ThrowOnError().Objects("WanAnimateResult").Single();
        var path = first.Get<string>("OutputFile")!;
        var downloadsAfterFirst = _emulator.Server.Counters.Requests(Segmind.Emulator.EndpointGroup.Output);
        var stamp = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);

        var kept = session.Run("$result | Save-WanAnimateOutput -Directory $args[0] -Verbose", directory.Path).ThrowOnError();
        Assert.Equal(path, kept.Objects("WanAnimateResult").Single().Get<string>("OutputFile"));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        Assert.Equal(downloadsAfterFirst, _emulator.Server.Counters.Requests(Segmind.Emulator.EndpointGroup.Output));

        var forced = session.Run("$result | Save-WanAnimateOutput -Directory $args[0] -Force", directory.Path).ThrowOnError();
        Assert.Equal(path, forced.Objects("WanAnimateResult").Single().Get<string>("OutputFile"));
        Assert.NotEqual(stamp, File.GetLastWriteTimeUtc(path));
        Assert.True(Mp4.StartsWithFtypBox(path));
        Assert.Null(result.Get<string>("OutputFile"));
    }

    [Fact]
    public void Save_by_request_id_fetches_the_result_first()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var job = session.Run("New-WanAnimateJob -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'by id'")
            .ThrowOnError().Objects("WanAnimateJob").Single();
        session.Run($"Wait-WanAnimateJob -RequestId $args[0] {FastPoll}", job.Get<string>("RequestId")).ThrowOnError();

        var saved = session.Run("Save-WanAnimateOutput -RequestId $args[0] -Path $args[1]", job.Get<string>("RequestId"), directory.File("by-id.mp4")).ThrowOnError();

        var single = Assert.Single(saved.Objects("WanAnimateResult"));
        Assert.Equal(directory.File("by-id.mp4"), single.Get<string>("OutputFile"));
        Assert.True(Mp4.StartsWithFtypBox(single.Get<string>("OutputFile")!));
    }

    [Fact]
    public void Base64_output_is_saved_as_a_video_too()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            $"[pscustomobject]@{{ InputVideo = 'https://media.example.com/a.mp4'; ReferenceImage = 'https://media.example.com/a.png'; Prompt = 'inline'; Base64 = 'true' }} | Invoke-WanAnimate -OutputDirectory $args[0] {FastPoll}",
            directory.Path);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var single = Assert.Single(result.Objects("WanAnimateResult"));
        Assert.False(single.Get<string>("Output")!.StartsWith("http", StringComparison.OrdinalIgnoreCase));
        Assert.True(Mp4.StartsWithFtypBox(single.Get<string>("OutputFile")!));
    }

    [Fact]
    public void Local_files_are_uploaded_before_the_submit()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        File.WriteAllBytes(directory.File("motion.mp4"), new byte[] { 0, 0, 0, 8, (byte)'f', (byte)'t', (byte)'y', (byte)'p' });
        File.WriteAllBytes(directory.File("face.png"), new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });

        // Relative paths resolve against the PowerShell location, not the process's current directory.
        var result = session.Run(
            "$null = $ExecutionContext.SessionState.Path.SetLocation($args[0]); New-WanAnimateJob -InputVideo ./motion.mp4 -ReferenceImage face.png -Prompt 'from disk' -UploadUri $args[1]",
            directory.Path,
            _emulator.Server.UploadUri);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var job = Assert.Single(result.Objects("WanAnimateJob"));
        Assert.Equal("./motion.mp4", job.Get<string>("InputVideo"));
        Assert.True(_emulator.Server.Counters.Requests(Segmind.Emulator.EndpointGroup.Upload) >= 1);
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void Status_and_credit_are_reported_as_typed_objects()
    {
        using var session = _emulator.OpenSession();
        var job = session.Run("New-WanAnimateJob -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'status'")
            .ThrowOnError().Objects("WanAnimateJob").Single();
        session.SetVariable("job", job);

        var status = session.Run("$job | Get-WanAnimateStatus; Get-WanAnimateStatus $job.RequestId").ThrowOnError().Objects("WanAnimateStatus").ToList();
        Assert.Equal(2, status.Count);
        Assert.All(status, s => Assert.Equal(job.Get<string>("RequestId"), s.Get<string>("RequestId")));
        Assert.All(status, s => Assert.Contains(s.Get<string>("Status"), new[] { "QUEUED", "PROCESSING", "COMPLETED" }));
        Assert.Equal(job.Get<string>("RequestId"), status[0].ToString());

        var credit = Assert.Single(session.Run("Get-SegmindCredit").ThrowOnError().Objects("SegmindCredit"));
        Assert.Equal((double)_emulator.Server.GetCredits(EmulatorFixture.ApiKey), credit.Get<double>("Credits"), 3);
        Assert.NotEqual(default(DateTimeOffset), credit.Get<DateTimeOffset>("CheckedAt"));
    }

    [Fact]
    public void Job_properties_as_csv_text_bind_back_into_the_cmdlets()
    {
        using var session = _emulator.OpenSession();
        var job = session.Run("New-WanAnimateJob -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'round trip' -Mode animation -Seed 7 -Id row-7")
            .ThrowOnError().Objects("WanAnimateJob").Single();
        session.SetVariable("job", job);

        // What Export-Csv/Import-Csv would give back: every public property, as text.
        const string asCsvRow = """
            $row = [ordered]@{}
            foreach ($p in $job.PSObject.Properties) { $row[$p.Name] = if ($null -eq $p.Value) { '' } else { [string]$p.Value } }
            $row = [pscustomobject]$row
            """;
        var waited = session.Run(asCsvRow + $"\n$row | Wait-WanAnimateJob {FastPoll}").ThrowOnError().Objects("WanAnimateResult").Single();
        Assert.Equal(job.Get<string>("RequestId"), waited.Get<string>("RequestId"));
        Assert.Equal("row-7", waited.Get<string>("RowId"));
        Assert.Equal(7L, waited.Get<long?>("Seed"));
        Assert.Equal("animation", waited.Get<string>("Mode"));
        Assert.Equal(job.Get<int?>("Row"), waited.Get<int?>("Row"));
        Assert.NotNull(waited.Get<object>("SubmittedAt"));

        var again = session.Run(asCsvRow + "\n$row | New-WanAnimateJob -WhatIf; 'whatif-done'").ThrowOnError();
        Assert.Equal("whatif-done", again.Output.Last().BaseObject);
        Assert.Empty(again.Objects("WanAnimateJob"));

        var resultRow = session.Run(
            "$r = $args[0]; $row = [ordered]@{}; foreach ($p in $r.PSObject.Properties) { $row[$p.Name] = if ($null -eq $p.Value) { '' } else { [string]$p.Value } }; [pscustomobject]$row | Get-WanAnimateStatus",
            waited).ThrowOnError();
        Assert.Equal("COMPLETED", resultRow.Objects("WanAnimateStatus").Single().Get<string>("Status"));
    }

    [Fact]
    public void Parallel_runspaces_each_import_and_use_the_module()
    {
        using var session = _emulator.OpenSession();

        var result = session.Run(
            $$"""
            $manifest = $args[0]; $base = $args[1]; $key = $args[2]
            1..3 | ForEach-Object -ThrottleLimit 3 -Parallel {
                Import-Module $using:manifest
                Invoke-WanAnimate -InputVideo "https://media.example.com/p$_.mp4" -ReferenceImage https://media.example.com/a.png -Prompt "parallel $_" -BaseUri $using:base -ApiKey $using:key {{FastPoll}}
            }
            """,
            RepositoryPaths.ModuleManifest,
            _emulator.Server.BaseUri,
            EmulatorFixture.ApiKey);

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        var results = result.Output.Select(o => o.Properties["RequestId"]?.Value as string).ToList();
        Assert.Equal(3, results.Distinct().Count());
        Assert.All(result.Output, o => Assert.Equal("COMPLETED", o.Properties["Status"].Value));
    }
}

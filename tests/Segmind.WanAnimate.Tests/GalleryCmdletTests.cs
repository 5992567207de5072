using AngleSharp.Html.Parser;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>Export-WanAnimateGallery in the hosted engine: its inputs, where it writes, -WhatIf, -Open and its errors (no browser).</summary>
public sealed class GalleryCmdletTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _emulator;

    public GalleryCmdletTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public void A_journaled_batch_becomes_a_page_beside_its_saved_videos_with_every_row()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            """
            param($journal, $out)
            $rows = @(
                [pscustomobject]@{ Id = 'one'; InputVideo = 'https://media.example.com/a.mp4'; ReferenceImage = 'https://media.example.com/a.png'; Prompt = 'first'; Mode = 'animation'; Resolution = '480p' }
                [pscustomobject]@{ Id = 'two'; InputVideo = 'https://media.example.com/b.mp4'; ReferenceImage = 'https://media.example.com/b.png'; Prompt = 'second [fail]'; Mode = 'replace'; Resolution = '720p' }
            )
            $null = $rows | Invoke-WanAnimate -JournalPath $journal -OutputDirectory $out -PollInterval '00:00:00.05' -ErrorAction SilentlyContinue
            Export-WanAnimateGallery -JournalPath $journal
            """,
            directory.File("batch.journal"),
            directory.File("out"));

        Assert.True(result.Terminating == null, result.Describe());
        Assert.True(result.Output.Count == 1, result.Describe());
        var page = Assert.IsType<FileInfo>(result.Output[0].BaseObject);
        Assert.Equal(directory.File(Path.Combine("out", "gallery.html")), page.FullName);
        var dom = new HtmlParser().ParseDocument(File.ReadAllText(page.FullName));
        // Rows submitted at once reach the journal in any order: the cards are found by their row id.
        var cards = dom.QuerySelectorAll("li.card").ToDictionary(c => c.QuerySelector("h2")!.TextContent);
        Assert.Equal(new[] { "one", "two" }, cards.Keys.Order().ToArray());
        Assert.Equal("completed", cards["one"].GetAttribute("data-status"));
        Assert.Equal("failed", cards["two"].GetAttribute("data-status"));
        Assert.Equal("first", cards["one"].QuerySelector(".prompt")!.TextContent);
        var video = cards["one"].QuerySelector("video")!.GetAttribute("src")!;
        Assert.Matches("^[^/]+\\.mp4$", video);
        Assert.True(File.Exists(Path.Combine(directory.Path, "out", Uri.UnescapeDataString(video))));
        Assert.NotNull(cards["two"].QuerySelector(".error"));
    }

    [Fact]
    public void Without_a_path_the_page_goes_beside_the_first_saved_video_and_a_rerun_replaces_it()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var video = directory.File(Path.Combine("videos", "req-1.mp4"));
        Directory.CreateDirectory(Path.GetDirectoryName(video)!);
        File.WriteAllBytes(video, new byte[] { 1, 2, 3 });
        const string script = """
            param($video, $title)
            [Segmind.WanAnimate.WanAnimateResult]@{ RequestId = 'req-1'; Status = 'COMPLETED'; OutputFile = $video; RowId = 'a'; Row = 1; Prompt = 'p' } |
                Export-WanAnimateGallery -Title $title
            """;

        var first = session.Run(script, video, "First").ThrowOnError();
        var second = session.Run(script, video, "Second").ThrowOnError();

        var page = directory.File(Path.Combine("videos", "gallery.html"));
        Assert.Equal(page, ((FileInfo)first.Output.Single().BaseObject).FullName);
        Assert.Equal(page, ((FileInfo)second.Output.Single().BaseObject).FullName);
        Assert.Equal("Second", new HtmlParser().ParseDocument(File.ReadAllText(page)).Title);
        Assert.Equal(new[] { "gallery.html", "req-1.mp4" }, Directory.GetFiles(Path.GetDirectoryName(page)!).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public void WhatIf_writes_nothing()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            "[pscustomobject]@{ RequestId = 'r'; Status = 'QUEUED' } | Export-WanAnimateGallery -Path $args[0] -WhatIf",
            directory.File("gallery.html")).ThrowOnError();

        Assert.Empty(result.Output);
        Assert.False(File.Exists(directory.File("gallery.html")));
    }

    [Fact]
    public void Open_in_a_non_interactive_host_only_warns_and_still_writes_the_page()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            "[pscustomobject]@{ RequestId = 'r'; Status = 'QUEUED' } | Export-WanAnimateGallery -Path $args[0] -Open",
            directory.File("gallery.html")).ThrowOnError();

        Assert.Single(result.Output);
        var warning = Assert.Single(result.Warnings);
        Assert.StartsWith("-Open ignored:", warning.Message, StringComparison.Ordinal);
        Assert.Contains(directory.File("gallery.html"), warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_rows_come_from_error_records_with_the_servers_message_and_objects_without_ids_are_skipped()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var result = session.Run(
            """
            param($page)
            $job = New-WanAnimateJob -Id broken -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt 'will [fail]'
            $null = $job | Wait-WanAnimateJob -PollInterval '00:00:00.05' -ErrorVariable failed -ErrorAction SilentlyContinue
            @($job) + @($failed) + @([pscustomobject]@{ Name = 'no id' }) | Export-WanAnimateGallery -Path $page
            """,
            directory.File("gallery.html"));

        Assert.True(result.Terminating == null, result.Describe());
        Assert.Single(result.Warnings);
        var card = Assert.Single(new HtmlParser().ParseDocument(File.ReadAllText(directory.File("gallery.html"))).QuerySelectorAll("li.card"));
        Assert.Equal("failed", card.GetAttribute("data-status"));
        Assert.Equal("will [fail]", card.QuerySelector(".prompt")!.TextContent);
        Assert.StartsWith("Server message: ", card.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Objects_shaped_like_ledger_entries_map_by_property_name_with_lowercase_statuses()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var video = directory.File("req-a.mp4");
        File.WriteAllBytes(video, new byte[] { 1 });

        session.Run(
            """
            param($page, $video)
            @(
                [pscustomobject]@{ RequestId = 'req-a'; Status = 'saved'; RowId = 'a'; Row = 1; Prompt = 'saved one'; Mode = 'animation'; Resolution = '480p'; Seed = 5; OutputFile = $video; SubmittedAt = [DateTimeOffset]::UtcNow }
                [pscustomobject]@{ RequestId = 'req-b'; Status = 'pending'; RowId = 'b'; Row = 2; Prompt = 'running' }
                [pscustomobject]@{ RequestId = ''; Status = 'unknown'; RowId = 'c'; Row = 3; Prompt = 'lost answer'; Error = 'The answer was lost.' }
                [pscustomobject]@{ RequestId = 'req-d'; Status = 'failed'; RowId = 'd'; Row = 4; Prompt = 'bad'; Error = 'No face found.' }
            ) | Export-WanAnimateGallery -Path $page
            """,
            directory.File("gallery.html"),
            video).ThrowOnError();

        var cards = new HtmlParser().ParseDocument(File.ReadAllText(directory.File("gallery.html"))).QuerySelectorAll("li.card");
        Assert.Equal(new[] { "completed", "pending", "other", "failed" }, cards.Select(c => c.GetAttribute("data-status")).ToArray());
        Assert.Equal("req-a.mp4", cards[0].QuerySelector("video")!.GetAttribute("src"));
        Assert.Equal("SAVED", cards[0].QuerySelector(".badge")!.TextContent);
        Assert.Equal("Message: The answer was lost.", cards[2].QuerySelector(".error")!.TextContent);
        Assert.Equal("Server message: No face found.", cards[3].QuerySelector(".error")!.TextContent);
    }

    [Fact]
    public void The_ledger_listed_by_Get_WanAnimateJob_becomes_a_gallery()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var tag = "gallery-" + Guid.NewGuid().ToString("N");

        var result = session.Run(
            """
            param($out, $page, $tag)
            $rows = @(
                [pscustomobject]@{ Id = "$tag-a"; InputVideo = 'https://media.example.com/a.mp4'; ReferenceImage = 'https://media.example.com/a.png'; Prompt = 'from the ledger'; Mode = 'animation'; Resolution = '480p' }
                [pscustomobject]@{ Id = "$tag-b"; InputVideo = 'https://media.example.com/b.mp4'; ReferenceImage = 'https://media.example.com/b.png'; Prompt = 'fails [fail]'; Mode = 'replace'; Resolution = '720p' }
            )
            $null = $rows | Invoke-WanAnimate -OutputDirectory $out -PollInterval '00:00:00.05' -ErrorAction SilentlyContinue
            Get-WanAnimateJob | Where-Object RowId -like "$tag-*" | Export-WanAnimateGallery -Path $page
            """,
            directory.File("out"),
            directory.File("gallery.html"),
            tag);

        Assert.True(result.Terminating == null && result.Output.Count == 1, result.Describe());
        var cards = new HtmlParser().ParseDocument(File.ReadAllText(directory.File("gallery.html"))).QuerySelectorAll("li.card")
            .ToDictionary(c => c.QuerySelector("h2")!.TextContent.Split(": ").Last());
        Assert.Equal(new[] { tag + "-a", tag + "-b" }, cards.Keys.Order().ToArray());
        Assert.Equal("completed", cards[tag + "-a"].GetAttribute("data-status"));
        Assert.Equal("from the ledger", cards[tag + "-a"].QuerySelector(".prompt")!.TextContent);
        var video = cards[tag + "-a"].QuerySelector("video")!.GetAttribute("src")!;
        Assert.True(File.Exists(Path.Combine(directory.Path, Uri.UnescapeDataString(video))), video);
        Assert.Equal("failed", cards[tag + "-b"].GetAttribute("data-status"));
    }

    [Fact]
    public void A_missing_journal_is_a_file_error()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();

        var error = session.CatchTerminating("Export-WanAnimateGallery -JournalPath $args[0]", directory.File("none.journal"));

        Assert.NotNull(error);
        Assert.StartsWith("WanAnimate.FileError", error!.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(System.Management.Automation.ErrorCategory.ReadError, error.CategoryInfo.Category);
        Assert.False(File.Exists(directory.File("gallery.html")));
    }
}

using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// Export-WanAnimateGallery on a real batch against the emulator, rendered by headless Chromium: one card per row
/// with the right status, hostile prompts inert, videos linked by relative path, and a screenshot in the test output.
/// </summary>
public sealed class GalleryBrowserTests : IClassFixture<EmulatorFixture>
{
    private const string ScriptPrompt = "<script>document.title='pwned';document.body.appendChild(document.createElement('hr'))</script>";
    private const string ImagePrompt = "\"><img src=x onerror=\"document.title='pwned';document.body.appendChild(document.createElement('hr'))\">";

    private readonly EmulatorFixture _emulator;

    public GalleryBrowserTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [ChromiumFact]
    public void A_real_batch_renders_one_card_per_row_with_inert_hostile_prompts_and_local_videos()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession();
        var output = Path.Combine(directory.Path, "videos with space");
        var video = directory.File("motion.mp4");
        File.Copy(Path.Combine(RepositoryPaths.RepositoryRoot, "src", "Segmind.Emulator", "Assets", "output.mp4"), video);
        var images = new[] { "knight.png", "robot.png", "dancer.png", "ghost.png", "later.png" }.Select(directory.File).ToArray();
        TinyPng.Write(images[0], 48, 220, 120, 40);
        TinyPng.Write(images[1], 48, 40, 160, 220);
        TinyPng.Write(images[2], 48, 200, 60, 160);
        TinyPng.Write(images[3], 48, 120, 120, 120);
        TinyPng.Write(images[4], 48, 60, 200, 90);
        session.SetVariable("ScriptPrompt", ScriptPrompt);
        session.SetVariable("ImagePrompt", ImagePrompt);

        var result = session.Run(
            """
            param($video, $images, $output)
            $rows = @(
                [pscustomobject]@{ Id = 'knight'; InputVideo = $video; ReferenceImage = $images[0]; Prompt = 'A knight dancing in a castle hall'; Mode = 'animation'; Resolution = '480p'; Seed = 42 }
                [pscustomobject]@{ Id = 'robot'; InputVideo = $video; ReferenceImage = $images[1]; Prompt = $ScriptPrompt; Mode = 'replace'; Resolution = '720p'; Seed = 7 }
                [pscustomobject]@{ Id = 'dancer'; InputVideo = $video; ReferenceImage = $images[2]; Prompt = $ImagePrompt; Mode = 'animation'; Resolution = '576p'; Seed = 3 }
                [pscustomobject]@{ Id = 'ghost'; InputVideo = $video; ReferenceImage = $images[3]; Prompt = 'This one fails [fail] <b>on purpose</b>'; Mode = 'replace'; Resolution = '480p'; Seed = 1 }
            )
            $results = $rows | Invoke-WanAnimate -OutputDirectory $output -PollInterval '00:00:00.05' -ErrorVariable failed -ErrorAction SilentlyContinue
            $pending = New-WanAnimateJob -Id later -InputVideo $video -ReferenceImage $images[4] -Prompt 'Still queued' -Mode animation -Resolution 720p
            @($results) + @($failed) + @($pending) | Export-WanAnimateGallery -Title 'Gallery under test'
            @($results)
            """,
            video,
            images,
            output);

        Assert.True(result.Terminating == null, result.Describe());
        var page = result.Output.Select(o => o.BaseObject).OfType<FileInfo>().Single().FullName;
        Assert.Equal(Path.Combine(output, "gallery.html"), page);
        var saved = result.Objects("WanAnimateResult").ToDictionary(r => r.Get<string>("RowId")!, r => r.Get<string>("OutputFile")!);
        Assert.Equal(new[] { "dancer", "knight", "robot" }, saved.Keys.Order().ToArray());

        var dom = new HtmlParser().ParseDocument(HeadlessChromium.DumpDom(page));

        // The page's own script ran (it shows the filters and counts the rows)...
        Assert.False(dom.GetElementById("filters")!.HasAttribute("hidden"));
        Assert.Equal("5 of 5 rows shown", dom.GetElementById("shown")!.TextContent);

        // ...and nothing from a prompt did: the title is the page's, no element was added, every value is text.
        Assert.Equal("Gallery under test", dom.Title);
        Assert.Empty(dom.QuerySelectorAll("hr"));
        Assert.Single(dom.QuerySelectorAll("script"));
        Assert.DoesNotContain(dom.All, e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        Assert.DoesNotContain(dom.QuerySelectorAll("b"), b => b.TextContent == "on purpose");
        Assert.All(dom.QuerySelectorAll("img"), img => Assert.StartsWith("Reference image of ", img.GetAttribute("alt")));

        var cards = dom.QuerySelectorAll("li.card").ToDictionary(c => c.QuerySelector("h2")!.TextContent.Split(": ").Last());
        Assert.Equal(new[] { "dancer", "ghost", "knight", "later", "robot" }, cards.Keys.Order().ToArray());
        Assert.Equal("completed", cards["knight"].GetAttribute("data-status"));
        Assert.Equal("completed", cards["robot"].GetAttribute("data-status"));
        Assert.Equal("completed", cards["dancer"].GetAttribute("data-status"));
        Assert.Equal("failed", cards["ghost"].GetAttribute("data-status"));
        Assert.Equal("pending", cards["later"].GetAttribute("data-status"));
        Assert.Equal("FAILED", cards["ghost"].QuerySelector(".badge")!.TextContent);
        Assert.False(string.IsNullOrWhiteSpace(cards["ghost"].QuerySelector(".error")?.TextContent), "The failed card shows no server message.");
        Assert.Equal(ScriptPrompt, cards["robot"].QuerySelector(".prompt")!.TextContent);
        Assert.Equal(ImagePrompt, cards["dancer"].QuerySelector(".prompt")!.TextContent);
        Assert.Null(cards["ghost"].QuerySelector("video"));
        Assert.Null(cards["later"].QuerySelector("video"));
        Assert.Equal(5, dom.QuerySelectorAll("img").Length);

        // Each completed card plays its saved file, linked by a relative path that resolves to exactly that file.
        var pageUri = new Uri(new Uri(page).AbsoluteUri);
        foreach (var (rowId, file) in saved)
        {
            var videoElement = cards[rowId].QuerySelector("video")!;
            Assert.Equal("metadata", videoElement.GetAttribute("preload"));
            Assert.True(videoElement.HasAttribute("controls"));
            var source = videoElement.GetAttribute("src")!;
            Assert.False(Uri.TryCreate(source, UriKind.Absolute, out _), "Not a relative address: " + source);
            var resolved = Uri.UnescapeDataString(new Uri(pageUri, source).AbsolutePath);
            Assert.Equal(file, resolved);
            Assert.True(File.Exists(resolved));
        }

        // The page's filter and sort run in the browser: a fragment presets them.
        var failedOnly = new HtmlParser().ParseDocument(HeadlessChromium.DumpDom(page, "#status=failed"));
        Assert.Equal("1 of 5 rows shown", failedOnly.GetElementById("shown")!.TextContent);
        Assert.Equal(new[] { "failed" }, failedOnly.QuerySelectorAll("li.card:not([hidden])").Select(c => c.GetAttribute("data-status")).ToArray());
        var replaceByText = new HtmlParser().ParseDocument(HeadlessChromium.DumpDom(page, "#mode=replace&q=script"));
        Assert.Equal("1 of 5 rows shown", replaceByText.GetElementById("shown")!.TextContent);
        var byStatus = new HtmlParser().ParseDocument(HeadlessChromium.DumpDom(page, "#sort=rank"));
        Assert.Equal("failed", byStatus.QuerySelector("li.card")!.GetAttribute("data-status"));
        Assert.Equal("pending", byStatus.QuerySelectorAll("li.card")[1].GetAttribute("data-status"));

        var results = Path.Combine(RepositoryPaths.RepositoryRoot, "out", "test-results");
        HeadlessChromium.Screenshot(page, Path.Combine(results, "gallery-1280.png"));
        HeadlessChromium.Screenshot(page, Path.Combine(results, "gallery-phone.png"), 390, 844);
    }
}

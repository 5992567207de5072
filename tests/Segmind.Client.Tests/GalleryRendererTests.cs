using System.Security.Cryptography;
using System.Text;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Segmind.Client;
using Segmind.Client.Gallery;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The gallery renderer without a browser: escaping, which addresses become links, merging, the summary, the page file.</summary>
public sealed class GalleryRendererTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "segmind-gallery-tests-" + Guid.NewGuid().ToString("N"));

    public GalleryRendererTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private GalleryOptions Options(Func<string, bool>? exists = null) => new()
    {
        PageDirectory = _directory,
        Now = Now,
        Title = "Test batch",
        FileExists = exists ?? (_ => true),
    };

    private static IHtmlDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    [Theory]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("\"><img src=x onerror=alert(1)>")]
    [InlineData("'><svg onload=alert(1)>")]
    [InlineData("</textarea></li></ol><iframe src=javascript:alert(1)>")]
    [InlineData("`${alert(1)}` &amp; &lt;")]
    public void Hostile_values_render_as_their_own_text_and_add_no_element(string hostile)
    {
        var item = new GalleryItem
        {
            RowId = hostile, RequestId = hostile, Status = hostile, Prompt = hostile, Mode = hostile, Resolution = hostile,
            Error = hostile, OutputFile = hostile, InputVideo = hostile, ReferenceImage = hostile, Output = hostile,
        };
        var html = GalleryRenderer.Render(new[] { item }, Options(_ => false));
        var plain = GalleryRenderer.Render(new[] { new GalleryItem { RowId = "plain", RequestId = "plain", Status = "other", Prompt = "p", Mode = "m", Resolution = "r", Error = "e", OutputFile = "p", InputVideo = "p", ReferenceImage = "p", Output = "p" } }, Options(_ => false));

        var page = Parse(html);
        var card = Assert.Single(page.QuerySelectorAll("li.card"));
        Assert.Equal(hostile, card.QuerySelector(".prompt")!.TextContent);
        Assert.Equal(hostile, card.GetAttribute("data-mode"));
        Assert.Contains(hostile, card.QuerySelector(".error")!.TextContent, StringComparison.Ordinal);
        Assert.Single(page.QuerySelectorAll("script"));
        Assert.DoesNotContain(page.All, e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        Assert.Empty(page.QuerySelectorAll("svg, iframe, textarea, img, video"));

        // The hostile card has exactly the elements of a plain one (no link either: none of its values is an address).
        Assert.Equal(Parse(plain).QuerySelector("li.card")!.QuerySelectorAll("*").Select(e => e.LocalName), card.QuerySelectorAll("*").Select(e => e.LocalName));
        Assert.Empty(card.QuerySelectorAll("a"));
    }

    [Fact]
    public void Escape_replaces_markup_quotes_and_control_characters()
    {
        Assert.Equal("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;\uFFFD\t\n", GalleryHtml.Escape("<a href=\"x\" title='y'>&`\u0001\t\n"));
        Assert.Equal("plain text", GalleryHtml.Escape("plain text"));
        Assert.Equal(string.Empty, GalleryHtml.Escape(null));
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("JAVASCRIPT:alert(1)")]
    [InlineData(" javascript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("vbscript:msgbox(1)")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.com/a.mp4")]
    [InlineData("relative/video.mp4")]
    [InlineData("")]
    public void Only_http_addresses_and_rooted_local_paths_are_linked(string location)
    {
        Assert.Null(GalleryHtml.SafeHref(location, _directory));
    }

    [Fact]
    public void Http_addresses_are_linked_as_they_are()
    {
        Assert.Equal("https://cdn.example.com/a.mp4?sig=1&x=2", GalleryHtml.SafeHref("https://cdn.example.com/a.mp4?sig=1&x=2", _directory));
        Assert.Equal("http://127.0.0.1:5080/out/a.mp4", GalleryHtml.SafeHref("http://127.0.0.1:5080/out/a.mp4", _directory));
    }

    [Fact]
    public void Local_files_are_linked_by_a_percent_encoded_relative_path_that_resolves_to_them()
    {
        var page = Path.Combine(_directory, "gallery", "index.html");
        var files = new[]
        {
            Path.Combine(_directory, "gallery", "a.mp4"),
            Path.Combine(_directory, "gallery", "sub dir", "b #1?.mp4"),
            Path.Combine(_directory, "videos", "c%20d.mp4"),
            Path.Combine(_directory, "x:y", "e.mp4"),
        };

        foreach (var file in files)
        {
            var href = GalleryHtml.SafeHref(file, Path.GetDirectoryName(page)!)!;
            Assert.NotNull(href);
            Assert.False(Uri.TryCreate(href, UriKind.Absolute, out _), href);
            Assert.Equal(file, Uri.UnescapeDataString(new Uri(new Uri(new Uri(page).AbsoluteUri), href).AbsolutePath));
        }

        Assert.Equal("a.mp4", GalleryHtml.SafeHref(files[0], Path.GetDirectoryName(page)!));
        Assert.Equal("sub%20dir/b%20%231%3F.mp4", GalleryHtml.SafeHref(files[1], Path.GetDirectoryName(page)!));
        Assert.Equal("../videos/c%2520d.mp4", GalleryHtml.SafeHref(files[2], Path.GetDirectoryName(page)!));
    }

    [Fact]
    public void The_saved_file_wins_then_the_remote_output_until_it_expires()
    {
        var saved = Path.Combine(_directory, "out", "req.mp4");
        var options = Options();
        options.PageDirectory = Path.Combine(_directory, "out");
        var item = new GalleryItem { Status = "COMPLETED", OutputFile = saved, Output = "https://cdn.example.com/r.mp4", SubmittedAt = Now.AddMinutes(-10) };

        Assert.Equal("req.mp4", GalleryRenderer.VideoSource(item, options).Source);

        // Saved, but the file is gone: the remote output while Segmind keeps it (one hour from submission).
        options.FileExists = _ => false;
        Assert.Equal("https://cdn.example.com/r.mp4", GalleryRenderer.VideoSource(item, options).Source);

        item.SubmittedAt = Now.AddMinutes(-61);
        var (source, note) = GalleryRenderer.VideoSource(item, options);
        Assert.Null(source);
        Assert.Contains("expired", note, StringComparison.Ordinal);

        // Base64 output, never saved: nothing to play, nothing linked.
        var base64 = new GalleryItem { Status = "COMPLETED", Output = "AAAAGGZ0eXBtcDQy" };
        Assert.Null(GalleryRenderer.VideoSource(base64, options).Source);
        var html = GalleryRenderer.Render(new[] { base64 }, options);
        Assert.DoesNotContain("AAAAGGZ0eXBtcDQy", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Records_of_one_row_merge_and_an_ended_status_is_not_taken_back()
    {
        var items = GalleryRenderer.Combine(new[]
        {
            new GalleryItem { RowId = "b", Row = 2, RequestId = "r2", Status = "QUEUED", Prompt = "second" },
            new GalleryItem { RowId = "a", Row = 1, RequestId = "r1", Status = "QUEUED", Prompt = "first", Mode = "animation" },
            new GalleryItem { RowId = "a", Row = 1, RequestId = "r1", Status = "COMPLETED", OutputFile = "/x/r1.mp4", Cost = 0.5 },
            new GalleryItem { RowId = "a", RequestId = "r1", Status = "QUEUED" },
            new GalleryItem { RequestId = "r2", Status = "FAILED", Error = "bad input" },
        });

        Assert.Equal(new[] { "a", "b" }, items.Select(i => i.RowId).ToArray());
        Assert.Equal("COMPLETED", items[0].Status);
        Assert.Equal("first", items[0].Prompt);
        Assert.Equal("animation", items[0].Mode);
        Assert.Equal(0.5, items[0].Cost);
        Assert.Equal("FAILED", items[1].Status);
        Assert.Equal("bad input", items[1].Error);
        Assert.Equal("second", items[1].Prompt);
    }

    [Fact]
    public void Records_of_one_row_with_two_request_ids_are_two_jobs_and_two_cards()
    {
        var items = GalleryRenderer.Combine(new[]
        {
            new GalleryItem { RowId = "a", Row = 1, RequestId = "run-1", Status = "saved", Prompt = "fog", OutputFile = "/x/run-1.mp4", Cost = 0.25 },
            new GalleryItem { RowId = "a", Row = 1, RequestId = "run-2", Status = "QUEUED", Prompt = "beach" },
            new GalleryItem { RowId = "a", RequestId = "run-2", Status = "FAILED", Error = "blocked", Cost = 0.25 },
            new GalleryItem { RowId = "a", Status = "ERROR", Error = "a later record of the row without a request id" },
        });

        Assert.Equal(new[] { "run-1", "run-2" }, items.Select(i => i.RequestId).ToArray());
        Assert.Equal(("saved", "fog", "/x/run-1.mp4"), (items[0].Status, items[0].Prompt, items[0].OutputFile));
        Assert.Equal(("ERROR", "beach", (string?)null), (items[1].Status, items[1].Prompt, items[1].OutputFile));
        Assert.Equal(0.5, GallerySummary.Of(items).TotalCost);
    }

    [Fact]
    public void A_ledger_entry_that_expired_counts_as_failed_and_says_why_it_has_no_video()
    {
        var expired = new GalleryItem { RowId = "late", RequestId = "r-9", Status = "expired", SubmittedAt = Now.AddHours(-2) };

        Assert.Equal(GalleryOutcome.Failed, expired.Outcome);
        Assert.Equal(1, GallerySummary.Of(new[] { expired }).Failed);
        var (source, note) = GalleryRenderer.VideoSource(expired, Options());
        Assert.Null(source);
        Assert.Contains("Expired at Segmind", note, StringComparison.Ordinal);

        // The row's earlier "queued" record gives way to the expiry, and a stale pending record does not undo it.
        var row = new GalleryItem { RowId = "late", RequestId = "r-9", Status = "QUEUED" };
        row.MergeFrom(expired);
        row.MergeFrom(new GalleryItem { RowId = "late", RequestId = "r-9", Status = "pending" });
        Assert.Equal("expired", row.Status);
    }

    [Fact]
    public void The_summary_counts_outcomes_and_adds_cost_and_durations()
    {
        var start = Now.AddMinutes(-30);
        var summary = GallerySummary.Of(new[]
        {
            new GalleryItem { Status = "COMPLETED", Cost = 0.25, Duration = TimeSpan.FromSeconds(100), SubmittedAt = start, CompletedAt = start.AddSeconds(100) },
            new GalleryItem { Status = "saved", Cost = 0.5, Duration = TimeSpan.FromSeconds(300), SubmittedAt = start.AddSeconds(10), CompletedAt = start.AddSeconds(310) },
            new GalleryItem { Status = "COMPLETED", Cost = 0.25, Duration = TimeSpan.FromSeconds(200), SubmittedAt = start.AddSeconds(20), CompletedAt = start.AddSeconds(220) },
            new GalleryItem { Status = "FAILED", SubmittedAt = start.AddSeconds(30) },
            new GalleryItem { Status = "PROCESSING", SubmittedAt = start.AddSeconds(40) },
            new GalleryItem { Status = "UNKNOWN" },
        });

        Assert.Equal((6, 3, 1, 1, 1), (summary.Total, summary.Completed, summary.Failed, summary.Pending, summary.Other));
        Assert.Equal(1.0, summary.TotalCost!.Value, 10);
        Assert.Equal(TimeSpan.FromSeconds(600), summary.TotalDuration);
        Assert.Equal(TimeSpan.FromSeconds(200), summary.MedianDuration);
        Assert.Equal(start, summary.FirstSubmittedAt);
        Assert.Equal(start.AddSeconds(310), summary.LastActivityAt);
        Assert.Equal(TimeSpan.FromSeconds(15), GallerySummary.Median(new[] { TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(10) }));

        var empty = GallerySummary.Of(Array.Empty<GalleryItem>());
        Assert.Null(empty.TotalCost);
        Assert.Null(empty.MedianDuration);
    }

    [Fact]
    public void The_header_shows_the_summary_and_the_filters_offer_the_rows_modes_and_resolutions()
    {
        var html = GalleryRenderer.Render(new[]
        {
            new GalleryItem { RowId = "a", Status = "COMPLETED", Mode = "animation", Resolution = "720p", Cost = 0.25, Duration = TimeSpan.FromSeconds(90) },
            new GalleryItem { RowId = "b", Status = "FAILED", Mode = "replace", Resolution = "480p", Error = "The input video could not be decoded." },
        }, Options());
        var page = Parse(html);

        var summary = page.QuerySelectorAll(".summary li").Select(li => li.TextContent).ToList();
        Assert.Contains("2Rows", summary);
        Assert.Contains("1Completed", summary);
        Assert.Contains("1Failed", summary);
        Assert.Contains("0Pending", summary);
        Assert.Contains("0.25 creditsTotal cost", summary);
        Assert.Contains("1 min 30 sMedian duration", summary);
        Assert.Equal(new[] { "", "animation", "replace" }, page.QuerySelectorAll("#f-mode option").Select(o => o.GetAttribute("value")).ToArray());
        Assert.Equal(new[] { "", "480p", "720p" }, page.QuerySelectorAll("#f-resolution option").Select(o => o.GetAttribute("value")).ToArray());
        Assert.All(page.QuerySelectorAll("select, input"), control => Assert.NotNull(page.QuerySelector("label[for='" + control.Id + "']")));
        Assert.Equal("Server message: The input video could not be decoded.", page.QuerySelector("li.failed .error")!.TextContent);
        Assert.Equal("Test batch", page.Title);
    }

    [Fact]
    public void The_page_loads_nothing_from_elsewhere_and_its_policy_allows_only_its_own_script_and_style()
    {
        var html = GalleryRenderer.Render(new[] { new GalleryItem { RowId = "a", Status = "COMPLETED" } }, Options());
        var page = Parse(html);

        var policy = page.QuerySelector("meta[http-equiv='Content-Security-Policy']")!.GetAttribute("content")!;
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src '" + Sha256(page.QuerySelector("script")!.TextContent) + "'", policy, StringComparison.Ordinal);
        Assert.Contains("style-src '" + Sha256(page.QuerySelector("style")!.TextContent) + "'", policy, StringComparison.Ordinal);
        Assert.Empty(page.QuerySelectorAll("link, script[src], iframe, object, embed"));
        Assert.DoesNotContain("http://", html.Replace("http: https:", string.Empty), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.DoesNotContain("url(", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Writing_replaces_the_page_whole_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(_directory, "site", "gallery.html");
        GalleryPage.Write(path, new[] { new GalleryItem { RowId = "one", Status = "COMPLETED" } }, Options());
        var first = File.ReadAllText(path);
        var rows = GalleryPage.Write(path, new[] { new GalleryItem { RowId = "two", Status = "FAILED" }, new GalleryItem { RowId = "three", Status = "QUEUED" } }, Options());

        var second = File.ReadAllText(path);
        Assert.Equal(2, rows.Count);
        Assert.Contains("one", first, StringComparison.Ordinal);
        Assert.DoesNotContain(">one<", second, StringComparison.Ordinal);
        Assert.Equal(2, Parse(second).QuerySelectorAll("li.card").Length);
        Assert.Equal(new[] { "gallery.html" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void A_journal_becomes_one_row_per_journaled_row_with_its_inputs_and_outcome()
    {
        var journalPath = Path.Combine(_directory, "batch.journal");
        var video = Path.Combine(_directory, "out", "r-1.mp4");
        var submitted = DateTimeOffset.UtcNow.AddMinutes(-20);
        using (var journal = BatchJournal.Open(journalPath))
        {
            journal.RecordSubmitting("knight", new WanAnimateRequest { InputVideo = "https://cdn.example.com/walk.mp4?sig=secret", ReferenceImage = "https://cdn.example.com/k.png", Prompt = "<b>knight</b>", Mode = "animation", Resolution = "720p", Seed = 42 });
            journal.RecordSubmitted("knight", new SubmittedJob("r-1", JobState.Queued, new Uri("https://api.example.com/s/r-1"), new Uri("https://api.example.com/r/r-1"), null, submitted));
            journal.RecordOutcome("knight", new JobResult("r-1", JobState.Completed, null, new Dictionary<string, object?> { ["cost"] = 0.25, ["inference_time"] = 41.5 }, "https://cdn.example.com/out/r-1.mp4", submitted.AddMinutes(7)));
            journal.RecordSubmitting("ghost", new WanAnimateRequest { InputVideo = "https://cdn.example.com/g.mp4", ReferenceImage = "https://cdn.example.com/g.png", Prompt = "ghost", Mode = "replace", Resolution = "480p", Seed = 1 });
            journal.RecordSubmitted("ghost", new SubmittedJob("r-2", JobState.Queued, new Uri("https://api.example.com/s/r-2"), new Uri("https://api.example.com/r/r-2"), null, submitted));
            journal.RecordFailed("ghost", "r-2", "The reference image has no face.", new Dictionary<string, object?> { ["cost"] = 0.1 });
            journal.RecordSubmitting("lost", new WanAnimateRequest { InputVideo = "https://cdn.example.com/l.mp4", ReferenceImage = "https://cdn.example.com/l.png", Prompt = "lost", Mode = "animation", Resolution = "480p", Seed = 2 });
            journal.RecordSubmitting("waiting", new WanAnimateRequest { InputVideo = "https://cdn.example.com/w.mp4", ReferenceImage = "https://cdn.example.com/w.png", Prompt = "waiting", Mode = "animation", Resolution = "480p", Seed = 3 });
            journal.RecordSubmitted("waiting", new SubmittedJob("r-3", JobState.Queued, new Uri("https://api.example.com/s/r-3"), new Uri("https://api.example.com/r/r-3"), null, submitted));
            journal.RecordSaved("knight", "r-1", video, 1234);
        }

        File.AppendAllText(journalPath, "{\"v\":1,\"kind\":\"submitting\",\"row\":\"torn");
        var items = GalleryJournal.Read(journalPath);

        Assert.Equal(new[] { "knight", "ghost", "lost", "waiting" }, items.Select(i => i.RowId).ToArray());
        var knight = items[0];
        Assert.Equal(("COMPLETED", "r-1", video), (knight.Status, knight.RequestId, knight.OutputFile));
        Assert.Equal(("<b>knight</b>", "animation", "720p", 42L), (knight.Prompt, knight.Mode, knight.Resolution, knight.Seed!.Value));
        Assert.StartsWith("https://cdn.example.com/walk.mp4", knight.InputVideo, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", knight.InputVideo, StringComparison.Ordinal);
        Assert.Equal(submitted, knight.SubmittedAt);
        Assert.Equal((0.25, 41.5), (knight.Cost!.Value, knight.InferenceTime!.Value));
        Assert.Equal(("FAILED", "The reference image has no face.", 0.1), (items[1].Status, items[1].Error, items[1].Cost!.Value));
        Assert.NotNull(items[1].Duration);
        Assert.Equal(GalleryOutcome.Other, items[2].Outcome);
        Assert.Equal(GalleryOutcome.Pending, items[3].Outcome);
    }

    private static string Sha256(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

using AngleSharp.Html.Parser;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// Export-WanAnimateGallery of objects re-imported with Import-Csv: Export-Csv writes numbers and some dates in the
/// exporting session's culture, and a ledger lists every run's job of a row. No server is needed.
/// </summary>
public sealed class GalleryCsvTests
{
    [Theory]
    [InlineData("de-DE", "de-DE")]
    [InlineData("de-DE", "en-US")]
    [InlineData("ja-JP", "de-DE")]
    public void Results_exported_to_csv_in_one_culture_keep_their_cost_and_times_when_read_in_another(string exportCulture, string readCulture)
    {
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(baseUri: null, apiKey: null);

        var result = session.Run(
            """
            param($page, $exportCulture, $readCulture)
            # What Import-Csv gives back of a CSV that Export-Csv wrote in $exportCulture: every value as the text
            # of that culture ("0,25" and "01.12.2026 10:00:00 +00:00" in de-DE); metrics as their JSON.
            $culture = [cultureinfo] $exportCulture
            $rows = @(
                [pscustomobject]@{ RequestId = 'r-1'; Status = 'COMPLETED'; RowId = 'a'; Row = '1'; Prompt = 'p'; Cost = ([double] 0.25).ToString($culture); InferenceTime = ([double] 12.5).ToString($culture); Metrics = '{"queue_time":3,"cost":0.25,"inference_time":12.5}'; SubmittedAt = '' }
                [pscustomobject]@{ RequestId = 'r-2'; Status = 'COMPLETED'; RowId = 'b'; Row = '2'; Prompt = 'q'; Cost = ''; InferenceTime = ''; Metrics = '{"queue_time":3,"cost":0.25,"inference_time":12.5}'; SubmittedAt = '' }
                # A ledger entry's times are DateTimeOffset values, written in the culture.
                [pscustomobject]@{ RequestId = 'r-3'; Status = 'saved'; RowId = 'c'; Row = '3'; Prompt = 'r'; Cost = ''; InferenceTime = ''; Metrics = ''; SubmittedAt = [DateTimeOffset]::new(2026, 12, 1, 10, 0, 0, [TimeSpan]::Zero).ToString($culture) }
            )
            $saved = [cultureinfo]::CurrentCulture
            try {
                [cultureinfo]::CurrentCulture = $readCulture
                $rows | Export-WanAnimateGallery -Path $page
            }
            finally {
                [cultureinfo]::CurrentCulture = $saved
            }
            """,
            directory.File("gallery.html"),
            exportCulture,
            readCulture).ThrowOnError();

        Assert.Single(result.Output);
        var dom = new HtmlParser().ParseDocument(File.ReadAllText(directory.File("gallery.html")));
        var cards = dom.QuerySelectorAll("li.card").ToDictionary(c => c.QuerySelector("h2")!.TextContent);
        Assert.Equal(new[] { "Row 1: a", "Row 2: b", "Row 3: c" }, cards.Keys.ToArray());
        Assert.Equal("0.25", cards["Row 1: a"].GetAttribute("data-cost"));
        Assert.Equal("0.25", cards["Row 2: b"].GetAttribute("data-cost"));
        Assert.Equal("12.5", cards["Row 1: a"].GetAttribute("data-inference"));
        var header = dom.QuerySelector("header")!.TextContent;
        Assert.Contains("0.5 credits", header, StringComparison.Ordinal);
        if (exportCulture == readCulture)
        {
            // A culture's date text is read in the reading session's culture; across cultures it is ambiguous.
            Assert.Contains("2026-12-01", header, StringComparison.Ordinal);
            Assert.DoesNotContain("2026-01-12", header, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_ledger_with_two_runs_of_one_row_gives_one_card_per_job()
    {
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(baseUri: null, apiKey: null);

        session.Run(
            """
            param($page)
            @(
                [pscustomobject]@{ RequestId = 'first-run'; Status = 'saved'; RowId = 'hero-01'; Row = 1; Prompt = 'a knight in fog'; OutputFile = '/videos/first-run.mp4'; Cost = 0.25 }
                [pscustomobject]@{ RequestId = 'second-run'; Status = 'failed'; RowId = 'hero-01'; Row = 1; Prompt = 'a knight on a beach'; Error = 'blocked'; Cost = 0.25 }
            ) | Export-WanAnimateGallery -Path $page
            """,
            directory.File("gallery.html")).ThrowOnError();

        var dom = new HtmlParser().ParseDocument(File.ReadAllText(directory.File("gallery.html")));
        var cards = dom.QuerySelectorAll("li.card").ToArray();
        Assert.Equal(2, cards.Length);
        Assert.Equal(new[] { "completed", "failed" }, cards.Select(c => c.GetAttribute("data-status")).ToArray());
        Assert.Equal("a knight in fog", cards[0].QuerySelector(".prompt")!.TextContent);
        Assert.Equal("a knight on a beach", cards[1].QuerySelector(".prompt")!.TextContent);
        Assert.Null(cards[1].QuerySelector("video"));
        Assert.Contains("0.5 credits", dom.QuerySelector("header")!.TextContent, StringComparison.Ordinal);
    }
}

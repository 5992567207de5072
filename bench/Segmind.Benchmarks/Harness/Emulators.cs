using System.Globalization;
using System.Management.Automation;
using Segmind.Emulator;

namespace Segmind.Benchmarks.Harness;

/// <summary>Starts the in-process emulator (always 127.0.0.1, port 0) with room for every figure: credits and retention never run out.</summary>
public static class Emulators
{
    public const string ApiKey = EmulatorOptions.DefaultApiKey;

    public static Task<EmulatorServer> StartAsync(Action<EmulatorOptions> configure)
    {
        var options = new EmulatorOptions
        {
            StartingCredits = 1_000_000_000m,
            RetentionSeconds = 10_000_000,
            QueueSeconds = 0,
            FaultSeed = 20240601,
        };
        configure(options);
        options.Urls = EmulatorOptions.InProcessUrl;
        options.AllowRemote = false;
        return EmulatorServer.StartAsync(options);
    }
}

/// <summary>Input rows for the figures: distinct, valid wan-animate inputs, as JSON parameters or as CSV-like PowerShell rows.</summary>
public static class BenchRows
{
    public static IReadOnlyList<IReadOnlyDictionary<string, object?>> Parameters(int count, string tag)
    {
        var rows = new List<IReadOnlyDictionary<string, object?>>(count);
        for (var i = 0; i < count; i++)
        {
            // Exactly the body the module sends for the same row (its defaults spelled out).
            rows.Add(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["input_video"] = Video(tag, i),
                ["reference_image"] = Image(tag, i),
                ["prompt"] = Prompt(tag, i),
                ["mode"] = Mode(i),
                ["resolution"] = "480p",
                ["seed"] = (long)i,
                ["base64"] = false,
            });
        }

        return rows;
    }

    /// <summary>The same rows as Import-Csv would give them: every value a string, API-style headers.</summary>
    public static List<PSObject> CsvRows(int count, string tag)
    {
        var rows = new List<PSObject>(count);
        for (var i = 0; i < count; i++)
        {
            var row = new PSObject();
            row.Properties.Add(new PSNoteProperty("input_video", Video(tag, i)));
            row.Properties.Add(new PSNoteProperty("reference_image", Image(tag, i)));
            row.Properties.Add(new PSNoteProperty("prompt", Prompt(tag, i)));
            row.Properties.Add(new PSNoteProperty("mode", Mode(i)));
            row.Properties.Add(new PSNoteProperty("resolution", "480p"));
            row.Properties.Add(new PSNoteProperty("seed", i.ToString(CultureInfo.InvariantCulture)));
            rows.Add(row);
        }

        return rows;
    }

    private static string Video(string tag, int i) => "https://example.com/" + tag + "/motion-" + i.ToString(CultureInfo.InvariantCulture) + ".mp4";

    private static string Image(string tag, int i) => "https://example.com/" + tag + "/character-" + i.ToString(CultureInfo.InvariantCulture) + ".png";

    private static string Prompt(string tag, int i) => "a dancer on a rooftop at dusk, take " + i.ToString(CultureInfo.InvariantCulture) + " (" + tag + ")";

    private static string Mode(int i) => i % 2 == 0 ? "animation" : "replace";
}

using System.Management.Automation;
using Segmind.Emulator;

namespace Segmind.WanAnimate.Tests.Support;

/// <summary>One row of a journaled test batch: its id and inputs, its fingerprint at the emulator, and its CSV form.</summary>
public sealed record BatchRow(string Id, string InputVideo, string Prompt)
{
    public const string ReferenceImage = "https://media.example.com/hero.png";

    public string Fingerprint => EmulatorCounters.Fingerprint(InputVideo, ReferenceImage, Prompt, "animation", "480p", 987778);

    /// <summary>The row as the killable test host takes it.</summary>
    public (string, string, string, string) ForHost => (Id, InputVideo, ReferenceImage, Prompt);

    /// <summary><paramref name="count"/> rows named <paramref name="name"/>-1, -2, ...; <paramref name="video"/> gives the i-th row's input video instead of an address.</summary>
    public static List<BatchRow> Make(string name, int count, Func<int, string>? video = null) =>
        Enumerable.Range(1, count).Select(i => new BatchRow($"{name}-{i}", video?.Invoke(i) ?? $"https://media.example.com/{name}-{i}.mp4", $"{name} row {i}")).ToList();

    /// <summary>The rows as Import-Csv would give them, in the API's column names.</summary>
    public static PSObject[] AsCsvRows(IEnumerable<BatchRow> rows) => rows.Select(r =>
    {
        var row = new PSObject();
        row.Properties.Add(new PSNoteProperty("Id", r.Id));
        row.Properties.Add(new PSNoteProperty("input_video", r.InputVideo));
        row.Properties.Add(new PSNoteProperty("reference_image", ReferenceImage));
        row.Properties.Add(new PSNoteProperty("prompt", r.Prompt));
        row.Properties.Add(new PSNoteProperty("mode", "animation"));
        row.Properties.Add(new PSNoteProperty("resolution", "480p"));
        return row;
    }).ToArray();
}

using System.Text;
using System.Text.Json;
using Segmind.Client.Tests.TestSupport;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The append shared by the batch journal and the submit ledger: one whole record a line, whatever the file ends with.</summary>
public sealed class JsonLinesFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string FilePath => _folder.File("records.jsonl");

    private static byte[] Record(string kind) =>
        JsonLinesFile.FormatRecord(1, kind, new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), writer => writer.WriteString("prompt", "café"));

    private void AppendRecord(string kind)
    {
        using var stream = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        JsonLinesFile.Append(stream, Record(kind));
    }

    [Fact]
    public void AnEmptyFileGetsNoBlankFirstLine()
    {
        AppendRecord("one");
        AppendRecord("two");

        Assert.Equal(
            "{\"v\":1,\"kind\":\"one\",\"at\":\"2026-12-01T10:00:00.0000000Z\",\"prompt\":\"café\"}\n" +
            "{\"v\":1,\"kind\":\"two\",\"at\":\"2026-12-01T10:00:00.0000000Z\",\"prompt\":\"café\"}\n",
            File.ReadAllText(FilePath, Encoding.UTF8));
    }

    [Fact]
    public void ARecordAfterATornLineStartsOnALineOfItsOwn()
    {
        File.WriteAllText(FilePath, "{\"v\":1,\"kind\":\"one\"}\n{\"v\":1,\"ki");

        AppendRecord("two");

        var lines = File.ReadAllText(FilePath, Encoding.UTF8).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("{\"v\":1,\"ki", lines[1]);
        Assert.Equal("two", JsonDocument.Parse(lines[2]).RootElement.GetProperty("kind").GetString());
        Assert.Equal(string.Empty, lines[3]);
    }
}

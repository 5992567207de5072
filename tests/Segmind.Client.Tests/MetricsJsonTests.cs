using System.Collections;
using System.Globalization;
using System.Text.Json;
using Segmind.Client.Json;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The one writer of metrics as JSON, used by journal records and by the module's metric tables.</summary>
public sealed class MetricsJsonTests
{
    [Fact]
    public void NestedValuesBecomeCompactJson()
    {
        var metrics = new Dictionary<string, object?>
        {
            ["cost"] = 0.25,
            ["frames"] = 81L,
            ["ok"] = true,
            ["note"] = null,
            ["sizes"] = new List<object?> { 1, 2.5 },
            ["inner"] = new Hashtable { ["a"] = "b" },
        };

        Assert.Equal("{\"cost\":0.25,\"frames\":81,\"ok\":true,\"note\":null,\"sizes\":[1,2.5],\"inner\":{\"a\":\"b\"}}", MetricsJson.ToText(metrics));
    }

    [Fact]
    public void NumbersAndTimesDoNotDependOnTheCulture()
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var at = new DateTimeOffset(2026, 12, 1, 10, 30, 0, TimeSpan.FromHours(1));
            using var parsed = JsonDocument.Parse(MetricsJson.ToText(new object[] { 12.5, at }));
            Assert.Equal(12.5, parsed.RootElement[0].GetDouble());
            Assert.Equal("2026-12-01T09:30:00.0000000+00:00", parsed.RootElement[1].GetString());
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void NotANumberStaysValidJson()
    {
        Assert.Equal("[\"NaN\",\"Infinity\"]", MetricsJson.ToText(new[] { double.NaN, double.PositiveInfinity }));
    }

    [Fact]
    public void ATableHoldingItselfEndsInNullInsteadOfRecursingForever()
    {
        var table = new Hashtable();
        table["self"] = table;

        var text = MetricsJson.ToText(table);

        Assert.EndsWith("{\"self\":null}" + new string('}', 32), text);
    }
}

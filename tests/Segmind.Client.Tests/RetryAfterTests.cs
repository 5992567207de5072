using Segmind.Client.Http;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class RetryAfterTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("7", 7.0)]
    [InlineData(" 12 ", 12.0)]
    [InlineData("1.5", 1.5)]
    [InlineData("0", 0.0)]
    public void ReadsDeltaSeconds(string header, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryAfter.Parse(header, null, Now, Cap));
    }

    [Fact]
    public void ReadsAnHttpDate()
    {
        var header = Now.AddSeconds(30).ToString("r");

        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfter.Parse(header, null, Now, Cap));
    }

    [Fact]
    public void APastDateMeansNoWait()
    {
        Assert.Equal(TimeSpan.Zero, RetryAfter.Parse(Now.AddMinutes(-5).ToString("r"), null, Now, Cap));
    }

    [Fact]
    public void PrefersTheResetTimestampBecauseItIsMorePrecise()
    {
        var resetAt = Now.AddMilliseconds(2750).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

        Assert.Equal(TimeSpan.FromMilliseconds(2750), RetryAfter.Parse("3", resetAt, Now, Cap));
    }

    [Fact]
    public void ReadsAResetTimestampWithAnOffset()
    {
        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfter.Parse(null, "2025-03-14T13:01:30+01:00", Now, Cap));
    }

    [Fact]
    public void FallsBackToRetryAfterWhenTheResetTimestampIsGarbage()
    {
        Assert.Equal(TimeSpan.FromSeconds(4), RetryAfter.Parse("4", "soon", Now, Cap));
    }

    [Theory]
    [InlineData("86400")]
    [InlineData("1e300")]
    public void ClampsAbsurdWaits(string header)
    {
        Assert.Equal(Cap, RetryAfter.Parse(header, null, Now, Cap));
        Assert.Equal(Cap, RetryAfter.Parse(null, Now.AddDays(3).ToString("o"), Now, Cap));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("later")]
    [InlineData("NaN")]
    public void NoUsableHintIsNull(string? header)
    {
        Assert.Null(RetryAfter.Parse(header, null, Now, Cap));
    }

    [Fact]
    public void ReadsResponseHeaders()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("Retry-After", "2");
        response.Headers.TryAddWithoutValidation(RetryAfter.ResetAtHeader, Now.AddMilliseconds(500).ToString("o"));

        Assert.Equal(TimeSpan.FromMilliseconds(500), RetryAfter.FromHeaders(response.Headers, Now, Cap));
    }
}

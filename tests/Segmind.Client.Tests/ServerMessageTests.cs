using System.Text;
using Segmind.Client;
using Segmind.Client.Http;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class ServerMessageTests
{
    private static string? Extract(string body) => ServerMessage.Extract(Encoding.UTF8.GetBytes(body));

    [Theory]
    [InlineData("{\"error\":\"prompt is required.\"}", "prompt is required.")]
    [InlineData("{\"detail\":\"Not enough credits\"}", "Not enough credits")]
    [InlineData("{\"message\":\"Model retired\"}", "Model retired")]
    [InlineData("{\"error\":\"  \",\"detail\":\"the detail\"}", "the detail")]
    [InlineData("plain   text\n answer ", "plain text answer")]
    public void ReadsTheServersOwnWords(string body, string expected)
    {
        Assert.Equal(expected, Extract(body));
    }

    [Fact]
    public void ReadsStructuredDetailsAsCompactJson()
    {
        var message = Extract("{\"detail\":[{\"loc\":[\"body\",\"seed\"],\"msg\":\"value is not a valid integer\"}]}");

        Assert.Contains("value is not a valid integer", message);
    }

    [Fact]
    public void StripsHtmlDownToItsText()
    {
        var message = Extract("<html><head><title>405 Not Allowed</title><style>body{color:red}</style></head><body><h1>405 Not Allowed</h1><hr><center>nginx &amp; friends</center></body></html>");

        Assert.Equal("405 Not Allowed 405 Not Allowed nginx & friends", message);
    }

    [Fact]
    public void TruncatesLongText()
    {
        var message = Extract(new string('x', 5000));

        Assert.NotNull(message);
        Assert.True(message!.Length <= ServerMessage.MaxLength + 3);
        Assert.EndsWith("...", message);
    }

    [Fact]
    public void NothingToSayIsNull()
    {
        Assert.Null(Extract(""));
        Assert.Null(Extract("{}"));
        Assert.Null(Extract("<html></html>"));
    }

    [Theory]
    [InlineData(400, "Bad Request", typeof(SegmindBadRequestException))]
    [InlineData(401, "Unauthorized", typeof(SegmindAuthenticationException))]
    [InlineData(403, "Forbidden", typeof(SegmindPermissionException))]
    [InlineData(404, "Not Found", typeof(SegmindNotFoundException))]
    [InlineData(405, "Method Not Allowed", typeof(SegmindBadRequestException))]
    [InlineData(408, "Request Timeout", typeof(SegmindServerException))]
    [InlineData(410, "Gone", typeof(SegmindBadRequestException))]
    [InlineData(429, "Too Many Requests", typeof(SegmindRateLimitedException))]
    [InlineData(500, "Internal Server Error", typeof(SegmindServerException))]
    [InlineData(502, "Bad Gateway", typeof(SegmindServerException))]
    [InlineData(503, "Service Unavailable", typeof(SegmindServerException))]
    [InlineData(504, "Gateway Timeout", typeof(SegmindServerException))]
    [InlineData(418, "I'm a teapot", typeof(SegmindProtocolException))]
    [InlineData(302, "Found", typeof(SegmindProtocolException))]
    public void MapsEachStatusToItsMeaning(int status, string reason, Type expected)
    {
        var error = ErrorMapper.Map(status, reason, "check the status of job 'abc'", "abc", "the server's words", null);

        Assert.IsType(expected, error);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal("abc", error.RequestId);
        Assert.Equal("the server's words", error.ServerMessage);
        Assert.Contains(status.ToString(), error.Message);
        Assert.EndsWith(".", error.Message);
        Assert.Equal(error is SegmindServerException or SegmindRateLimitedException, error.IsTransient);
    }

    [Theory]
    [InlineData("Insufficient credits: this job costs 0.25", typeof(SegmindInsufficientCreditsException))]
    [InlineData("Your balance is too low", typeof(SegmindInsufficientCreditsException))]
    [InlineData("Invalid content type: send application/json", typeof(SegmindBadRequestException))]
    [InlineData(null, typeof(SegmindBadRequestException))]
    public void Tells406sApartByTheirMessage(string? serverMessage, Type expected)
    {
        Assert.IsType(expected, ErrorMapper.Map(406, "Not Acceptable", "submit the job", null, serverMessage, null));
    }

    [Fact]
    public void NotFoundNamesTheJobAndTheRetention()
    {
        var error = ErrorMapper.Map(404, "Not Found", "get the result of job 'job-7'", "job-7", null, null);

        Assert.Contains("job-7", error.Message);
        Assert.Contains("1 hour", error.Message);
    }

    [Fact]
    public void GoneSaysTheModelWasRetired()
    {
        Assert.Contains("retired", ErrorMapper.Map(410, "Gone", "submit the job", null, null, null).Message);
    }

    [Fact]
    public void RateLimitedCarriesTheWait()
    {
        var error = Assert.IsType<SegmindRateLimitedException>(ErrorMapper.Map(429, null, "submit the job", null, "slow down", TimeSpan.FromSeconds(3)));

        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
        Assert.Contains("3 s", error.Message);
    }
}

using System.Net;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class UploadTests
{
    [Theory]
    [InlineData("file_urls")]
    [InlineData("urls")]
    public async Task Uploaded_files_come_back_at_the_returned_urls(string field)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.UploadUrlsField = field));
        using var client = Client(server);
        var image = new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 };
        var video = OutputVideo.Asset.ToArray();

        using var response = await client.PostAsync(server.UploadUri, Json(new Dictionary<string, object>
        {
            ["data_urls"] = new[]
            {
                "data:image/png;base64," + Convert.ToBase64String(image),
                "data:video/mp4;base64," + Convert.ToBase64String(video),
            },
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJsonAsync(response);
        Assert.False(body.TryGetProperty(field == "urls" ? "file_urls" : "urls", out _));
        var urls = body.GetProperty(field).EnumerateArray().Select(url => url.GetString()!).ToList();
        Assert.Equal(2, urls.Count);

        using var anonymous = Client(server, apiKey: null);
        using var first = await anonymous.GetAsync(urls[0]);
        Assert.Equal("image/png", ContentType(first)?.MediaType);
        Assert.Equal(image, await first.Content.ReadAsByteArrayAsync());
        using var second = await anonymous.GetAsync(urls[1]);
        Assert.Equal("video/mp4", ContentType(second)?.MediaType);
        Assert.Equal(video, await second.Content.ReadAsByteArrayAsync());

        // The hosted URLs are valid wan-animate inputs.
        var parameters = ValidParameters();
        parameters["input_video"] = urls[1];
        parameters["reference_image"] = urls[0];
        await SubmitOkAsync(client, parameters);
        Assert.Equal(1, server.Counters.Requests(EndpointGroup.Upload));
    }

    public static TheoryData<string> MalformedBodies => new()
    {
        """{"data_urls":[]}""",
        """{"files":["data:image/png;base64,AAAA"]}""",
        """{"data_urls":"data:image/png;base64,AAAA"}""",
        """{"data_urls":["https://example.com/a.png"]}""",
        """{"data_urls":["data:image/png,plain-text-not-base64"]}""",
        """{"data_urls":["data:;base64,AAAA"]}""",
        """{"data_urls":["data:image/png;base64,@@not base64@@"]}""",
        """{"data_urls":["data:image/png;base64,AAAA", 5]}""",
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_upload_answers_400_and_stores_nothing(string body)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var response = await client.PostAsync(server.UploadUri, RawJson(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data_urls", ErrorOf(await ReadJsonAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_over_the_cap_answers_413()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.MaxUploadBodyBytes = 10_000));
        using var client = Client(server);

        using var response = await client.PostAsync(server.UploadUri, Json(new { data_urls = new[] { "data:image/png;base64," + Convert.ToBase64String(new byte[20_000]) } }));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}

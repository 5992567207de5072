using System.Net;
using System.Text;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class ValidationTests
{
    public static TheoryData<string, string> BadParameters => new()
    {
        // JSON body, the field the error must name
        { """{"reference_image":"https://e.com/r.png","prompt":"p"}""", "input_video" },
        { """{"input_video":null,"reference_image":"https://e.com/r.png","prompt":"p"}""", "input_video" },
        { """{"input_video":"not a url","reference_image":"https://e.com/r.png","prompt":"p"}""", "input_video" },
        { """{"input_video":"ftp://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p"}""", "input_video" },
        { """{"input_video":42,"reference_image":"https://e.com/r.png","prompt":"p"}""", "input_video" },
        { """{"input_video":"https://e.com/v.mp4","prompt":"p"}""", "reference_image" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"/local/file.png","prompt":"p"}""", "reference_image" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png"}""", "prompt" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":""}""", "prompt" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"   "}""", "prompt" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":7}""", "prompt" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","mode":"dance"}""", "mode" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","mode":"Replace"}""", "mode" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","resolution":"1080p"}""", "resolution" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","resolution":720}""", "resolution" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","seed":1.5}""", "seed" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","seed":"5"}""", "seed" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","seed":1e30}""", "seed" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","base64":"yes"}""", "base64" },
        { """{"input_video":"https://e.com/v.mp4","reference_image":"https://e.com/r.png","prompt":"p","base64":1}""", "base64" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task Bad_parameter_is_refused_with_400_naming_the_field(string body, string field)
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var response = await client.PostAsync("v2/wan-animate", RawJson(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, ErrorOf(await ReadJsonAsync(response)), StringComparison.Ordinal);
        Assert.Equal(0, server.Counters.AcceptedSubmits);
        Assert.Equal(1000m, server.GetCredits(Key));
    }

    [Fact]
    public async Task Every_documented_value_and_unknown_extra_fields_are_accepted()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        foreach (var mode in new[] { "animation", "replace" })
        {
            foreach (var resolution in new[] { "480p", "576p", "720p" })
            {
                var body = ValidParameters();
                body["mode"] = mode;
                body["resolution"] = resolution;
                body["seed"] = -12;
                body["base64"] = true;
                body["some_future_field"] = new[] { 1, 2 };
                await SubmitOkAsync(client, body);
            }
        }

        Assert.Equal(6, server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task Body_that_is_not_json_gets_the_invalid_content_type_406()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var plain = await client.PostAsync("v2/wan-animate", new StringContent("prompt=hello", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.NotAcceptable, plain.StatusCode);
        Assert.Contains("content type", ErrorOf(await ReadJsonAsync(plain)), StringComparison.OrdinalIgnoreCase);

        using var broken = await client.PostAsync("v2/wan-animate", RawJson("{\"prompt\": "));
        Assert.Equal(HttpStatusCode.NotAcceptable, broken.StatusCode);
        Assert.Contains("content type", ErrorOf(await ReadJsonAsync(broken)), StringComparison.OrdinalIgnoreCase);

        using var array = await client.PostAsync("v2/wan-animate", RawJson("[1,2]"));
        Assert.Equal(HttpStatusCode.BadRequest, array.StatusCode);
        Assert.Equal(0, server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task Unknown_model_slug_answers_404()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var v2 = await client.PostAsync("v2/some-other-model", Json(ValidParameters()));
        Assert.Equal(HttpStatusCode.NotFound, v2.StatusCode);
        Assert.Contains("some-other-model", ErrorOf(await ReadJsonAsync(v2)), StringComparison.Ordinal);

        using var v1 = await client.PostAsync("v1/some-other-model", Json(ValidParameters()));
        Assert.Equal(HttpStatusCode.NotFound, v1.StatusCode);
        Assert.Equal(0, server.Counters.AcceptedJobs);
    }

    [Fact]
    public async Task Oversized_submit_body_answers_413()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.MaxSubmitBodyBytes = 1000));
        using var client = Client(server);

        using var response = await SubmitAsync(client, ValidParameters(new string('x', 2000)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, server.Counters.AcceptedSubmits);
    }

    [Fact]
    public async Task Unknown_path_answers_404_json_and_wrong_method_405()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);

        using var unknown = await client.GetAsync("v3/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.False(string.IsNullOrEmpty(ErrorOf(await ReadJsonAsync(unknown))));

        using var wrongMethod = await client.GetAsync("v2/wan-animate");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }
}

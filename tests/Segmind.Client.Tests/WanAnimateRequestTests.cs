using Segmind.Client;
using Segmind.Client.Tests.TestSupport;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class WanAnimateRequestTests
{
    private static WanAnimateRequest Valid() => TestClientOptions.Request();

    private static SegmindValidationException Refused(WanAnimateRequest request)
    {
        var error = Assert.Throws<SegmindValidationException>(request.Validate);
        TestKeys.AssertClean(error);
        Assert.Equal("InvalidArgument", error.ErrorId);
        return error;
    }

    [Fact]
    public void AcceptsAValidRequest()
    {
        Valid().Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ftp://cdn.example.com/motion.mp4")]
    [InlineData("file:///videos/motion.mp4")]
    [InlineData("https://")]
    [InlineData("no-such-file-here.mp4")]
    public void RefusesABadInputVideo(string value)
    {
        var request = Valid();
        request.InputVideo = value;

        Assert.Equal("InputVideo", Refused(request).Field);
    }

    [Theory]
    [InlineData("")]
    [InlineData("mailto:someone@example.com")]
    [InlineData("missing/character.png")]
    public void RefusesABadReferenceImage(string value)
    {
        var request = Valid();
        request.ReferenceImage = value;

        Assert.Equal("ReferenceImage", Refused(request).Field);
    }

    [Fact]
    public void AcceptsExistingLocalFiles()
    {
        using var folder = new TempFolder();
        var video = folder.File("motion.mp4");
        var image = folder.File("character.png");
        File.WriteAllBytes(video, new byte[] { 1, 2, 3 });
        File.WriteAllBytes(image, new byte[] { 4, 5, 6 });
        var request = Valid();
        request.InputVideo = video;
        request.ReferenceImage = image;

        request.Validate();
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \t\n")]
    public void RefusesAnEmptyPrompt(string prompt)
    {
        var request = Valid();
        request.Prompt = prompt;

        Assert.Equal("Prompt", Refused(request).Field);
    }

    [Theory]
    [InlineData("dance")]
    [InlineData("")]
    [InlineData("replacement")]
    public void RefusesAnUnknownMode(string mode)
    {
        var request = Valid();
        request.Mode = mode;

        var error = Refused(request);
        Assert.Equal("Mode", error.Field);
        Assert.Contains("animation, replace", error.Message);
    }

    [Theory]
    [InlineData("1080p")]
    [InlineData("480")]
    public void RefusesAnUnknownResolution(string resolution)
    {
        var request = Valid();
        request.Resolution = resolution;

        Assert.Equal("Resolution", Refused(request).Field);
    }

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void AcceptsAnySeed(long seed)
    {
        var request = Valid();
        request.Seed = seed;

        request.Validate();
        Assert.Equal(seed, request.ToParameters()["seed"]);
    }

    [Fact]
    public void ModeAndResolutionAreCaseInsensitiveAndSentInLowerCase()
    {
        var request = Valid();
        request.Mode = " REPLACE ";
        request.Resolution = "720P";

        request.Validate();
        var parameters = request.ToParameters();

        Assert.Equal("replace", parameters["mode"]);
        Assert.Equal("720p", parameters["resolution"]);
    }

    [Fact]
    public void ToParametersUsesSegmindsSnakeCaseNames()
    {
        var request = Valid();
        request.Base64 = true;

        var parameters = request.ToParameters();

        Assert.Equal(
            new[] { "input_video", "reference_image", "prompt", "mode", "resolution", "seed", "base64" },
            parameters.Keys.ToArray());
        Assert.Equal("https://cdn.example.com/motion.mp4", parameters["input_video"]);
        Assert.Equal("https://cdn.example.com/character.png", parameters["reference_image"]);
        Assert.Equal("a dancer in a red coat", parameters["prompt"]);
        Assert.Equal("animation", parameters["mode"]);
        Assert.Equal("480p", parameters["resolution"]);
        Assert.Equal(42L, parameters["seed"]);
        Assert.Equal(true, parameters["base64"]);
    }

    [Fact]
    public void DefaultsAreTheDocumentedOnes()
    {
        var request = new WanAnimateRequest();

        Assert.Equal("replace", request.Mode);
        Assert.Equal("480p", request.Resolution);
        Assert.Equal(987778L, request.Seed);
        Assert.False(request.Base64);
    }
}

using System.Text.Json;

namespace Segmind.Emulator;

/// <summary>wan-animate's documented parameters, checked the way the API checks them. Unknown fields are ignored.</summary>
internal static class WanAnimateParameters
{
    public const string Slug = "wan-animate";
    public const string DefaultMode = "replace";
    public const string DefaultResolution = "480p";
    public const long DefaultSeed = 987778;

    public static readonly string[] Modes = { "animation", "replace" };
    public static readonly string[] Resolutions = { "480p", "576p", "720p" };

    /// <summary>The input with defaults applied, or null and a message naming the offending field.</summary>
    public static WanAnimateInput? Parse(JsonElement body, out string? error)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = "The request body must be a JSON object of parameters.";
            return null;
        }

        var inputVideo = RequiredUrl(body, "input_video", out error);
        if (inputVideo is null) return null;
        var referenceImage = RequiredUrl(body, "reference_image", out error);
        if (referenceImage is null) return null;

        if (!body.TryGetProperty("prompt", out var promptElement) || promptElement.ValueKind == JsonValueKind.Null)
        {
            error = "prompt is required.";
            return null;
        }

        if (promptElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(promptElement.GetString()))
        {
            error = "prompt must be a non-empty string.";
            return null;
        }

        var mode = OneOf(body, "mode", Modes, DefaultMode, out error);
        if (mode is null) return null;
        var resolution = OneOf(body, "resolution", Resolutions, DefaultResolution, out error);
        if (resolution is null) return null;

        var seed = DefaultSeed;
        if (body.TryGetProperty("seed", out var seedElement) && seedElement.ValueKind != JsonValueKind.Null)
        {
            // An integer literal only: 5.0 or "5" are refused, as a typed API refuses them.
            if (seedElement.ValueKind != JsonValueKind.Number || !seedElement.TryGetInt64(out seed))
            {
                error = "seed must be an integer.";
                return null;
            }
        }

        var base64 = false;
        if (body.TryGetProperty("base64", out var base64Element) && base64Element.ValueKind != JsonValueKind.Null)
        {
            if (base64Element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                error = "base64 must be a boolean (true or false).";
                return null;
            }

            base64 = base64Element.GetBoolean();
        }

        error = null;
        return new WanAnimateInput(inputVideo, referenceImage, promptElement.GetString()!, mode, resolution, seed, base64);
    }

    private static string? RequiredUrl(JsonElement body, string name, out string? error)
    {
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            error = name + " is required.";
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = name + " must be a URL string.";
            return null;
        }

        var text = element.GetString()!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            error = name + " must be an http or https URL.";
            return null;
        }

        error = null;
        return text;
    }

    private static string? OneOf(JsonElement body, string name, string[] allowed, string defaultValue, out string? error)
    {
        error = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return defaultValue;
        }

        var value = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        if (value is null || Array.IndexOf(allowed, value) < 0)
        {
            error = name + " must be one of: " + string.Join(", ", allowed) + ".";
            return null;
        }

        return value;
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;

namespace Segmind.Client
{
    /// <summary>The parameters of one wan-animate job, as Segmind documents them.</summary>
    public sealed class WanAnimateRequest
    {
        public const string Slug = "wan-animate";
        public const string DefaultMode = "replace";
        public const string DefaultResolution = "480p";
        public const long DefaultSeed = 987778;

        public static readonly IReadOnlyList<string> Modes = new[] { "animation", "replace" };
        public static readonly IReadOnlyList<string> Resolutions = new[] { "480p", "576p", "720p" };

        /// <summary>The motion source: an http(s) URL, or a local file path (uploaded first).</summary>
        public string InputVideo { get; set; } = string.Empty;

        /// <summary>The character image: an http(s) URL, or a local file path (uploaded first).</summary>
        public string ReferenceImage { get; set; } = string.Empty;

        public string Prompt { get; set; } = string.Empty;

        public string Mode { get; set; } = DefaultMode;

        public string Resolution { get; set; } = DefaultResolution;

        public long Seed { get; set; } = DefaultSeed;

        /// <summary>Ask for the output as base64 text instead of a URL.</summary>
        public bool Base64 { get; set; }

        /// <summary>Checks every field; throws <see cref="SegmindValidationException"/> naming the first bad one. Sends nothing.</summary>
        public void Validate()
        {
            ValidateInput(nameof(InputVideo), InputVideo, "video");
            ValidateInput(nameof(ReferenceImage), ReferenceImage, "image");
            if (string.IsNullOrWhiteSpace(Prompt))
            {
                throw new SegmindValidationException(nameof(Prompt), "Prompt is required: describe the character and the scene.");
            }

            NormalizeChoice(nameof(Mode), Mode, Modes);
            NormalizeChoice(nameof(Resolution), Resolution, Resolutions);

            // Seed: any 64-bit integer is accepted, and the type already guarantees that.
        }

        /// <summary>The JSON body Segmind expects (snake_case names), with the inputs as given.</summary>
        public IDictionary<string, object?> ToParameters()
        {
            return new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["input_video"] = (InputVideo ?? string.Empty).Trim(),
                ["reference_image"] = (ReferenceImage ?? string.Empty).Trim(),
                ["prompt"] = Prompt,
                ["mode"] = NormalizeChoice(nameof(Mode), Mode, Modes),
                ["resolution"] = NormalizeChoice(nameof(Resolution), Resolution, Resolutions),
                ["seed"] = Seed,
                ["base64"] = Base64,
            };
        }

        /// <summary>A copy with the two inputs replaced (local files swapped for their uploaded URLs).</summary>
        public WanAnimateRequest WithInputs(string inputVideo, string referenceImage) => new WanAnimateRequest
        {
            InputVideo = inputVideo,
            ReferenceImage = referenceImage,
            Prompt = Prompt,
            Mode = Mode,
            Resolution = Resolution,
            Seed = Seed,
            Base64 = Base64,
        };

        private static readonly Regex UrlLike = new Regex("^[A-Za-z][A-Za-z0-9+.-]*://", RegexOptions.CultureInvariant);

        /// <summary>True when the input is meant as a URL (it has a scheme), whether or not it is a valid one.</summary>
        internal static bool LooksLikeUrl(string? input) => input != null && UrlLike.IsMatch(input.Trim());

        private static void ValidateInput(string field, string? value, string what)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new SegmindValidationException(field, $"{field} is required: an http(s) URL or the path of a local {what} file.");
            }

            var text = value!.Trim();
            if (LooksLikeUrl(text))
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
                    || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    || string.IsNullOrEmpty(uri.Host))
                {
                    throw new SegmindValidationException(field, $"{field} '{text}' is not an absolute http or https URL.");
                }

                return;
            }

            if (!File.Exists(text))
            {
                throw new SegmindValidationException(field, $"{field} '{text}' is neither an http(s) URL nor an existing file.");
            }
        }

        private static string NormalizeChoice(string field, string? value, IReadOnlyList<string> allowed)
        {
            var text = (value ?? string.Empty).Trim();
            var match = allowed.FirstOrDefault(choice => string.Equals(choice, text, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                throw new SegmindValidationException(field, $"{field} '{text}' is not one of: {string.Join(", ", allowed)}.");
            }

            return match;
        }
    }
}

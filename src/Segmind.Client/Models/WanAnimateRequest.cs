using System;
using System.Collections.Generic;
using System.IO;

namespace Segmind.Client
{
    /// <summary>The parameters of one wan-animate job, as Segmind documents them.</summary>
    public sealed class WanAnimateRequest
    {
        public const string Slug = "wan-animate";
        public const string DefaultMode = "replace";
        public const string DefaultResolution = "480p";
        public const long DefaultSeed = 987778;

        /// <summary>The longest prompt sent (in characters); a longer one is refused before anything is sent.</summary>
        public const int MaxPromptLength = 10000;

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

            if (Prompt.Length > MaxPromptLength)
            {
                throw new SegmindValidationException(nameof(Prompt), $"Prompt has {Prompt.Length} characters, more than the {MaxPromptLength} this module sends; shorten it.");
            }

            NormalizeChoice(nameof(Mode), Mode, Modes);
            NormalizeChoice(nameof(Resolution), Resolution, Resolutions);

            // Seed: any 64-bit integer is accepted, and the type already guarantees that.
        }

        /// <summary>The JSON body Segmind expects (snake_case names), with the inputs as given.</summary>
        public IDictionary<string, object?> ToParameters()
        {
            // WriteParameters must write exactly these fields, in this order.
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

        /// <summary>
        /// The body of <see cref="ToParameters"/> as UTF-8 JSON, written directly: the same bytes the serializer makes of
        /// that dictionary, without a dictionary and boxed values per submit.
        /// </summary>
        internal byte[] ToJsonBody()
        {
            var mode = NormalizeChoice(nameof(Mode), Mode, Modes);
            var resolution = NormalizeChoice(nameof(Resolution), Resolution, Resolutions);
            using (var buffer = new MemoryStream(256))
            {
                using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    writer.WriteString("input_video", (InputVideo ?? string.Empty).Trim());
                    writer.WriteString("reference_image", (ReferenceImage ?? string.Empty).Trim());
                    if (Prompt is null)
                    {
                        writer.WriteNull("prompt");
                    }
                    else
                    {
                        writer.WriteString("prompt", Prompt);
                    }

                    writer.WriteString("mode", mode);
                    writer.WriteString("resolution", resolution);
                    writer.WriteNumber("seed", Seed);
                    writer.WriteBoolean("base64", Base64);
                    writer.WriteEndObject();
                }

                return buffer.ToArray();
            }
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

        /// <summary>True when the input is meant as a URL (it has a scheme), whether or not it is a valid one.</summary>
        internal static bool LooksLikeUrl(string? input) => input != null && HasSchemePrefix(input.Trim());

        /// <summary>
        /// Whether <paramref name="text"/> starts with <c>scheme://</c>, the scheme being an ASCII letter followed by ASCII
        /// letters, digits, '+', '.' or '-' (RFC 3986). Hand-written because it runs several times for every row.
        /// </summary>
        internal static bool HasSchemePrefix(string text)
        {
            if (text.Length < 4 || !IsAsciiLetter(text[0]))
            {
                return false;
            }

            for (var i = 1; i < text.Length; i++)
            {
                var c = text[i];
                if (c == ':')
                {
                    return i + 2 < text.Length && text[i + 1] == '/' && text[i + 2] == '/';
                }

                if (!IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '.' && c != '-')
                {
                    return false;
                }
            }

            return false;
        }

        private static bool IsAsciiLetter(char c) => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

        private static void ValidateInput(string field, string? value, string what)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new SegmindValidationException(field, $"{field} is required: an http(s) URL or the path of a local {what} file.");
            }

            var text = value!.Trim();
            if (LooksLikeUrl(text))
            {
                if (!Http.UriRules.TryParseHttp(text, out var uri) || string.IsNullOrEmpty(uri.Host))
                {
                    throw new SegmindValidationException(field, $"{field} '{text}' is not an absolute http or https URL.");
                }

                return;
            }

            if (!File.Exists(text))
            {
                throw new SegmindValidationException(field, $"{field} '{text}' is neither an http(s) URL nor an existing file.");
            }

            EnsureUsableLocalFile(field, text, text);
        }

        /// <summary>
        /// Refuses an existing path that is empty or not a regular file. A pipe or a device reports no length (and a
        /// read from a pipe waits for a writer for ever), so a length of 0 covers them as well as an empty file.
        /// </summary>
        public static void EnsureUsableLocalFile(string field, string given, string path)
        {
            FileInfo info;
            try
            {
                info = new FileInfo(path);
            }
            catch (Exception error) when (error is ArgumentException || error is NotSupportedException || error is PathTooLongException || error is UnauthorizedAccessException)
            {
                throw new SegmindValidationException(field, $"{field} '{given}' is not a usable path: {error.Message}");
            }

            if (!info.Exists)
            {
                throw new SegmindValidationException(field, $"{field} '{given}' is neither an http(s) URL nor an existing file.");
            }

            if (info.Length == 0)
            {
                throw new SegmindValidationException(field, $"{field} '{given}' is empty (0 bytes) or not a regular file (a pipe or a device); nothing was sent.");
            }
        }

        private static string NormalizeChoice(string field, string? value, IReadOnlyList<string> allowed)
        {
            var text = (value ?? string.Empty).Trim();
            string? match = null;
            for (var i = 0; i < allowed.Count; i++)
            {
                if (string.Equals(allowed[i], text, StringComparison.OrdinalIgnoreCase))
                {
                    match = allowed[i];
                    break;
                }
            }

            if (match is null)
            {
                throw new SegmindValidationException(field, $"{field} '{text}' is not one of: {string.Join(", ", allowed)}.");
            }

            return match;
        }
    }
}

using System.Collections.Generic;

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
        public void Validate() => throw new System.NotImplementedException();

        /// <summary>The JSON body Segmind expects (snake_case names), with the inputs as given.</summary>
        public IDictionary<string, object?> ToParameters() => throw new System.NotImplementedException();
    }
}

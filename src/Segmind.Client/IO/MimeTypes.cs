using System;
using System.Collections.Generic;
using System.IO;

namespace Segmind.Client.IO
{
    internal static class MimeTypes
    {
        private static readonly Dictionary<string, string> ByExtension = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            [".mp4"] = "video/mp4",
            [".mov"] = "video/quicktime",
            [".webm"] = "video/webm",
            [".mkv"] = "video/x-matroska",
            [".avi"] = "video/x-msvideo",
            [".png"] = "image/png",
            [".jpg"] = "image/jpeg",
            [".jpeg"] = "image/jpeg",
            [".webp"] = "image/webp",
            [".gif"] = "image/gif",
        };

        public const string Fallback = "application/octet-stream";

        public static string FromPath(string path) =>
            ByExtension.TryGetValue(Path.GetExtension(path) ?? string.Empty, out var mime) ? mime : Fallback;
    }
}

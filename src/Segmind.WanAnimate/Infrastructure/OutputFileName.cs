using System;
using System.IO;
using System.Text;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>The file name of a saved output: the request id and .mp4, made safe; never a name taken from the server's data.</summary>
    internal static class OutputFileName
    {
        public const string Extension = ".mp4";

        public static string For(string requestId)
        {
            var invalid = Path.GetInvalidFileNameChars();
            var builder = new StringBuilder(requestId.Length);
            foreach (var c in requestId.Trim())
            {
                // Separators of every platform, so a file written on Linux can be copied to Windows.
                builder.Append(Array.IndexOf(invalid, c) >= 0 || c == '/' || c == '\\' || c == ':' || char.IsControl(c) ? '_' : c);
            }

            var name = builder.ToString().Trim('.', ' ');
            if (name.Length == 0)
            {
                throw new ArgumentException("The request id '" + requestId + "' cannot name a file.", nameof(requestId));
            }

            return name + Extension;
        }
    }
}

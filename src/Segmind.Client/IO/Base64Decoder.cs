using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.IO
{
    /// <summary>Decodes base64 text to a stream a slice at a time, so no byte[] the size of the video is ever allocated.</summary>
    internal static class Base64Decoder
    {
        private const int SliceChars = 64 * 1024;

        /// <summary>Writes the decoded bytes and returns how many; a <c>data:...;base64,</c> prefix is skipped. Throws FormatException on bad text.</summary>
        public static async Task<long> DecodeToAsync(string text, Stream destination, CancellationToken cancellationToken)
        {
            var start = 0;
            if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                var comma = text.IndexOf(',');
                if (comma < 0)
                {
                    throw new FormatException("A data URL without a comma.");
                }

                start = comma + 1;
            }

            var slice = new char[SliceChars];
            var filled = 0;
            long written = 0;
            var ended = false;
            for (var i = start; i < text.Length; i++)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    continue;
                }

                if (ended && c != '=')
                {
                    throw new FormatException("Base64 text continues after its padding.");
                }

                if (c == '=')
                {
                    ended = true;
                }

                slice[filled++] = c;
                if (filled == SliceChars)
                {
                    // SliceChars is a multiple of 4, so every full slice decodes on its own.
                    written += await WriteAsync(slice, filled, destination, cancellationToken).ConfigureAwait(false);
                    filled = 0;
                }
            }

            if (filled > 0)
            {
                if (filled % 4 != 0)
                {
                    throw new FormatException("Base64 text of a length that is not a multiple of 4.");
                }

                written += await WriteAsync(slice, filled, destination, cancellationToken).ConfigureAwait(false);
            }

            return written;
        }

        private static async Task<long> WriteAsync(char[] slice, int count, Stream destination, CancellationToken cancellationToken)
        {
            var bytes = Convert.FromBase64CharArray(slice, 0, count);
            await destination.WriteAsync(bytes, 0, bytes.Length, cancellationToken).ConfigureAwait(false);
            return bytes.Length;
        }
    }
}

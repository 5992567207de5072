using System;
using System.Text;

namespace Segmind.Client.IO
{
    /// <summary>Whether decoded bytes start like a video file, so text that only happens to be valid base64 is not saved as one.</summary>
    internal static class VideoSignature
    {
        /// <summary>Enough decoded bytes to recognise every format below.</summary>
        public const int HeadBytes = 12;

        public static bool Matches(byte[] head, int offset, int count)
        {
            if (count >= 8)
            {
                // ISO base media (mp4, mov, m4v, 3gp): a box size, then one of these box types.
                var box = Encoding.ASCII.GetString(head, offset + 4, 4);
                if (box == "ftyp" || box == "moov" || box == "mdat" || box == "free" || box == "wide" || box == "skip")
                {
                    return true;
                }
            }

            if (count >= 4)
            {
                if (head[offset] == 0x1A && head[offset + 1] == 0x45 && head[offset + 2] == 0xDF && head[offset + 3] == 0xA3)
                {
                    return true; // EBML: webm, mkv
                }

                var start = Encoding.ASCII.GetString(head, offset, 4);
                if (start == "OggS" || (count >= 12 && start == "RIFF" && Encoding.ASCII.GetString(head, offset + 8, 4) == "AVI "))
                {
                    return true;
                }

                if (start.StartsWith("FLV", StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The first decoded bytes of base64 text (an optional data URL prefix and whitespace skipped); empty when undecodable.</summary>
        public static byte[] HeadOfBase64(string text)
        {
            var start = 0;
            if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                var comma = text.IndexOf(',');
                start = comma < 0 ? text.Length : comma + 1;
            }

            var chars = new char[16];
            var filled = 0;
            for (var i = start; i < text.Length && filled < chars.Length; i++)
            {
                if (!char.IsWhiteSpace(text[i]))
                {
                    chars[filled++] = text[i];
                }
            }

            try
            {
                return Convert.FromBase64CharArray(chars, 0, filled - (filled % 4));
            }
            catch (FormatException)
            {
                return Array.Empty<byte>();
            }
        }
    }
}

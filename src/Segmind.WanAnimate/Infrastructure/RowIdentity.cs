using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>
    /// A row's identity when it has no explicit Id: a hash of its inputs, the same on every run and machine,
    /// so a re-run of the same CSV recognises the same rows.
    /// </summary>
    internal static class RowIdentity
    {
        public static string Compute(string inputVideo, string referenceImage, string prompt, string mode, string resolution, long seed, bool base64)
        {
            // A separator that cannot appear in typed text keeps ("ab","c") and ("a","bc") apart.
            var canonical = string.Join(
                "\u001f",
                inputVideo.Trim(),
                referenceImage.Trim(),
                prompt,
                mode.ToLowerInvariant(),
                resolution.ToLowerInvariant(),
                seed.ToString(CultureInfo.InvariantCulture),
                base64 ? "1" : "0");
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(canonical));
            return BitConverter.ToString(hash, 0, 8).Replace("-", string.Empty).ToLowerInvariant();
        }
    }
}

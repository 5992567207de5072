using System;
using System.Net;

namespace Segmind.Client.Http
{
    /// <summary>Where the API key may go: https anywhere, plain http only to this machine (the emulator).</summary>
    internal static class UriRules
    {
        public static bool IsHttp(Uri uri) =>
            uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

        /// <summary>Parses <paramref name="text"/> as an absolute http or https address.</summary>
        public static bool TryParseHttp(string text, out Uri uri) =>
            Uri.TryCreate(text, UriKind.Absolute, out uri!) && IsHttp(uri);

        public static bool IsLoopback(Uri uri)
        {
            if (!uri.IsAbsoluteUri)
            {
                return false;
            }

            // DnsSafeHost drops the brackets of an IPv6 literal, so "::1" parses.
            var host = uri.DnsSafeHost;
            if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
        }

        /// <summary>Throws unless the API key may be sent to <paramref name="uri"/>.</summary>
        public static void EnsureKeyMayBeSentTo(Uri uri, string field)
        {
            if (!IsHttp(uri))
            {
                throw new SegmindValidationException(field, $"The address '{Describe(uri)}' is not an absolute http or https address.");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
            {
                throw new SegmindValidationException(
                    field,
                    $"Refusing to send the API key over plain http to '{uri.Host}': use https (plain http is allowed only for a local emulator on a loopback address).");
            }
        }

        /// <summary>Throws unless a download (which never carries the key) may fetch <paramref name="uri"/>.</summary>
        public static void EnsureDownloadable(Uri uri, string field)
        {
            if (!IsHttp(uri))
            {
                throw new SegmindValidationException(field, $"The output address '{Describe(uri)}' is not an absolute http or https address.");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
            {
                throw new SegmindValidationException(field, $"Refusing to download the output over plain http from '{uri.Host}': only https (or a loopback address) is accepted.");
            }
        }

        /// <summary>The base address with a trailing slash, so relative paths resolve below it rather than beside it.</summary>
        public static Uri NormalizeBase(Uri baseUri)
        {
            if (baseUri is null || !baseUri.IsAbsoluteUri)
            {
                throw new SegmindValidationException("BaseUri", "The base address must be an absolute http or https address.");
            }

            if (baseUri.AbsolutePath.EndsWith("/", StringComparison.Ordinal) && string.IsNullOrEmpty(baseUri.Query))
            {
                return baseUri;
            }

            var builder = new UriBuilder(baseUri) { Query = string.Empty, Fragment = string.Empty };
            if (!builder.Path.EndsWith("/", StringComparison.Ordinal))
            {
                builder.Path += "/";
            }

            return builder.Uri;
        }

        /// <summary>Scheme, host and path only: queries of signed URLs are not repeated in messages.</summary>
        public static string Describe(Uri uri)
        {
            if (!uri.IsAbsoluteUri)
            {
                return uri.OriginalString;
            }

            return uri.GetLeftPart(UriPartial.Path);
        }
    }
}

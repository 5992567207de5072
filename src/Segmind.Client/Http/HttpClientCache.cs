using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace Segmind.Client.Http
{
    /// <summary>
    /// One HttpClient per process and origin, so sockets are pooled across clients, cmdlet calls and runspaces.
    /// The key is never a default header: it is set on each request, so one HttpClient serves several keys.
    /// </summary>
    internal static class HttpClientCache
    {
        private static readonly ConcurrentDictionary<string, Lazy<HttpClient>> Clients = new ConcurrentDictionary<string, Lazy<HttpClient>>(StringComparer.Ordinal);

        public static string UserAgent { get; } = "Segmind.PowerShell/" + ProductVersion();

        /// <summary>For API calls: no redirects, because a redirect would carry the x-api-key header to wherever it points.</summary>
        public static HttpClient ForApi(Uri uri) => Get("api", uri, allowRedirects: false);

        /// <summary>For output downloads (CDN links, never the key): redirects are followed.</summary>
        public static HttpClient ForDownload(Uri uri) => Get("download", uri, allowRedirects: true);

        private static HttpClient Get(string purpose, Uri uri, bool allowRedirects)
        {
            var origin = purpose + "|" + uri.Scheme + "://" + uri.DnsSafeHost.ToLowerInvariant() + ":" + uri.Port;
            return Clients.GetOrAdd(origin, _ => new Lazy<HttpClient>(() => Create(allowRedirects), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
        }

        private static HttpClient Create(bool allowRedirects)
        {
            EnableModernTlsOnNetFramework();
            var handler = new HttpClientHandler
            {
                AllowAutoRedirect = allowRedirects,

                // No automatic decompression: API answers are a few hundred bytes of JSON and outputs are video,
                // already compressed, so asking for gzip only adds a decompression layer to every request.
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
            };

            try
            {
                // Batches poll many jobs at once; the .NET Framework default of 2 connections per server would serialize them.
                handler.MaxConnectionsPerServer = 32;
            }
            catch (PlatformNotSupportedException)
            {
            }
            catch (NotSupportedException)
            {
            }

            var client = new HttpClient(handler, disposeHandler: true)
            {
                // Each request gets its own deadline through a linked token; downloads only time out when idle.
                Timeout = Timeout.InfiniteTimeSpan,
            };
            client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Segmind.PowerShell", ProductVersion()));
            return client;
        }

        /// <summary>
        /// Windows PowerShell 5.1 runs on .NET Framework, whose HttpClient may still default to TLS 1.0; Segmind needs
        /// 1.2. Adding it (never removing anything) is harmless elsewhere, and .NET Core ignores the setting anyway.
        /// </summary>
        private static void EnableModernTlsOnNetFramework()
        {
            if (!RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.OrdinalIgnoreCase))
            {
                return;
            }

            try
            {
                ServicePointManager.SecurityProtocol |= SecurityProtocolType.Tls12;
            }
            catch (NotSupportedException)
            {
            }
        }

        private static string ProductVersion()
        {
            var assembly = typeof(HttpClientCache).Assembly;
            var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            var version = string.IsNullOrWhiteSpace(informational) ? assembly.GetName().Version?.ToString() ?? "0.0.0" : informational!;

            // Drop build metadata ("+commit"): it is not a valid product token and says nothing to the server.
            var plus = version.IndexOf('+');
            return plus > 0 ? version.Substring(0, plus) : version;
        }
    }
}

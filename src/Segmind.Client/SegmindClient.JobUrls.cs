using System;
using System.Collections.Concurrent;
using Segmind.Client.Http;

namespace Segmind.Client
{
    /// <summary>
    /// Where a job is polled. The key goes only to the configured API host: a status or result address, whether it
    /// came from Segmind's submit answer or from piped data (a CSV column), is used only when its scheme, host and port
    /// are those of <see cref="SegmindClientOptions.BaseUri"/> (or of an address in <see cref="SegmindClientOptions.TrustedJobHosts"/>).
    /// Any other address is ignored with a warning, and the job is polled at the address built from the base and its id.
    /// </summary>
    public sealed partial class SegmindClient
    {
        private readonly ConcurrentDictionary<string, bool> _warnedHosts = new ConcurrentDictionary<string, bool>(StringComparer.OrdinalIgnoreCase);

        /// <summary>True when the key may be sent to <paramref name="uri"/>: the same scheme, host and port as the base address or a trusted host.</summary>
        internal bool IsApiHost(Uri uri)
        {
            if (SameOrigin(uri, BaseUri()))
            {
                return true;
            }

            var trusted = _options.TrustedJobHosts;
            if (trusted != null)
            {
                foreach (var host in trusted)
                {
                    if (host != null && host.IsAbsoluteUri && SameOrigin(uri, host))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>The given job address when it is on the API host, else the one built from the base (with a warning).</summary>
        private Uri JobUri(Uri? given, string requestId, string suffix, string field, out string uriField)
        {
            if (given != null && given.IsAbsoluteUri && IsApiHost(given))
            {
                uriField = field;
                return given;
            }

            var built = BuiltJobUri(requestId, suffix);
            if (given != null)
            {
                IgnoredJobUrl(field, given, requestId);
            }

            uriField = "BaseUri";
            return built;
        }

        internal Uri BuiltJobUri(string requestId, string suffix) =>
            new Uri(BaseUri(), "v2/requests/" + Uri.EscapeDataString(requestId) + suffix);

        /// <summary>Says once per foreign host and field that its addresses are not used.</summary>
        private void IgnoredJobUrl(string field, Uri foreign, string requestId)
        {
            var origin = foreign.IsAbsoluteUri ? foreign.GetLeftPart(UriPartial.Authority) : foreign.OriginalString;
            if (!_warnedHosts.TryAdd(field + " " + origin, true))
            {
                return;
            }

            var api = BaseUri().GetLeftPart(UriPartial.Authority);
            Warn(
                $"The {field} of job '{requestId}' names {origin}, which is not the API host {api}: the API key is only sent to {api}, "
                + $"so the job is followed at {BuiltJobUri(requestId, field == "StatusUrl" ? "/status" : string.Empty)} instead"
                + " (and so are other jobs whose addresses name that host).");
        }

        private void Warn(string message)
        {
            var listener = _options.Warning;
            if (listener is null)
            {
                return;
            }

            try
            {
                listener(message);
            }
            catch (Exception)
            {
                // A listener must not turn a warning into a failure of the request.
            }
        }

        private static bool SameOrigin(Uri a, Uri b) =>
            a.IsAbsoluteUri
            && b.IsAbsoluteUri
            && string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
            && a.Port == b.Port;
    }
}

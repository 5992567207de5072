using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Segmind.Client
{
    /// <summary>
    /// The process-wide request gates, one per account (key fingerprint) and API address (scheme, host and port), so
    /// every client, cmdlet and runspace of the process that uses the same account shares one budget.
    /// </summary>
    /// <remarks>
    /// A gate is created on first use with <see cref="RequestGateOptions.ForBaseUri"/>: 4 requests in flight and 20 a
    /// minute for Segmind (inside its published 5–50 a minute tiers; 429s slow it further on smaller tiers), no rate
    /// limit for a loopback address (the local emulator). <see cref="Configure(ApiKey, Uri, int?, double?)"/> changes the budget of that account,
    /// for example from a cmdlet's <c>-ThrottleLimit</c> and <c>-RequestsPerMinute</c>. Gates live as long as the
    /// process: they only hold counters and waiting requests.
    /// </remarks>
    public static class RequestGateRegistry
    {
        private static readonly ConcurrentDictionary<string, RequestGate> Gates = new ConcurrentDictionary<string, RequestGate>(StringComparer.Ordinal);

        // Gates of clients on another clock (a scaled or fake one): never shared with real-time clients, and gone with their clock.
        private static readonly ConditionalWeakTable<TimeProvider, ConcurrentDictionary<string, RequestGate>> OtherClocks = new ConditionalWeakTable<TimeProvider, ConcurrentDictionary<string, RequestGate>>();

        /// <summary>The shared gate for this key and base address (created on first use with the address's defaults).</summary>
        public static IRequestGate Shared(ApiKey key, Uri baseUri) => Get(key, baseUri);

        /// <summary>The shared gate for this key and base address, typed, for diagnostics and reconfiguration.</summary>
        public static RequestGate Get(ApiKey key, Uri baseUri) => Get(key, baseUri, null);

        /// <summary>The shared gate for this key and base address among clients on <paramref name="time"/> (null: the real clock).</summary>
        public static RequestGate Get(ApiKey key, Uri baseUri, TimeProvider? time)
        {
            var name = GateName(key, baseUri);
            if (time is null || ReferenceEquals(time, TimeProvider.System))
            {
                return Gates.GetOrAdd(name, _ => new RequestGate(RequestGateOptions.ForBaseUri(baseUri)));
            }

            var gates = OtherClocks.GetValue(time, _ => new ConcurrentDictionary<string, RequestGate>(StringComparer.Ordinal));
            return gates.GetOrAdd(name, _ => new RequestGate(RequestGateOptions.ForBaseUri(baseUri), time));
        }

        /// <summary>
        /// Sets the budget of this account and address: null leaves a setting as it is, <paramref name="requestsPerMinute"/>
        /// 0 means unlimited. Takes effect at once for requests already waiting. Returns the shared gate.
        /// </summary>
        public static RequestGate Configure(ApiKey key, Uri baseUri, int? throttleLimit = null, double? requestsPerMinute = null) =>
            Configure(key, baseUri, null, throttleLimit, requestsPerMinute);

        /// <summary>As <see cref="Configure(ApiKey, Uri, int?, double?)"/>, for the gate of clients on <paramref name="time"/>.</summary>
        public static RequestGate Configure(ApiKey key, Uri baseUri, TimeProvider? time, int? throttleLimit, double? requestsPerMinute)
        {
            var gate = Get(key, baseUri, time);
            if (throttleLimit is null && requestsPerMinute is null)
            {
                return gate;
            }

            var options = gate.Options;
            if (throttleLimit is int limit)
            {
                options.ThrottleLimit = limit;
            }

            if (requestsPerMinute is double rpm)
            {
                options.RequestsPerMinute = rpm;
                options.Burst = null;
            }

            gate.Reconfigure(options);
            return gate;
        }

        /// <summary>The identity of a shared gate: key fingerprint and scheme://host:port, never the key itself.</summary>
        internal static string GateName(ApiKey key, Uri baseUri)
        {
            if (key is null)
            {
                throw new ArgumentNullException(nameof(key));
            }

            if (baseUri is null)
            {
                throw new ArgumentNullException(nameof(baseUri));
            }

            if (!baseUri.IsAbsoluteUri)
            {
                throw new SegmindValidationException("BaseUri", "The base address must be absolute.");
            }

            return key.Fingerprint + "|" + baseUri.Scheme.ToLowerInvariant() + "://" + baseUri.IdnHost.ToLowerInvariant() + ":" + baseUri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}

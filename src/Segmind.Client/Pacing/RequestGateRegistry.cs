using System;

namespace Segmind.Client
{
    /// <summary>The process-wide request gates, one per account (key fingerprint) and base address.</summary>
    public static class RequestGateRegistry
    {
        /// <summary>The shared gate for this key and base address (created on first use).</summary>
        public static IRequestGate Shared(ApiKey key, Uri baseUri) => UnlimitedRequestGate.Instance;
    }
}

using System;

namespace Segmind.Client
{
    /// <summary>
    /// A Segmind API key. It is deliberately opaque: <see cref="ToString"/> never reveals it,
    /// so it cannot leak through messages, logs, diagnostics or serialized objects.
    /// </summary>
    public sealed class ApiKey
    {
        public const string EnvironmentVariable = "SEGMIND_API_KEY";

        // The last key read from the environment (see FromEnvironment).
        private static ApiKey? _fromEnvironment;

        private readonly string _value;
        private readonly string _fingerprint;

        public ApiKey(string value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new SegmindValidationException("ApiKey", "The API key is empty.");
            }

            _value = value.Trim();

            // Computed once: every request looks up its account's shared gate and poller by this fingerprint.
            _fingerprint = ComputeFingerprint(_value);
        }

        /// <summary>The key from <c>SEGMIND_API_KEY</c>, or null when it is not set.</summary>
        public static ApiKey? FromEnvironment()
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (string.IsNullOrWhiteSpace(value))
            {
                return null;
            }

            // Clients without an explicit key read the variable on every request: reuse the key while it is unchanged.
            var trimmed = value!.Trim();
            var cached = _fromEnvironment;
            if (cached != null && string.Equals(cached._value, trimmed, StringComparison.Ordinal))
            {
                return cached;
            }

            var key = new ApiKey(trimmed);
            _fromEnvironment = key;
            return key;
        }

        /// <summary>The secret itself: only the HTTP layer may call this, to set the x-api-key header.</summary>
        internal string Reveal() => _value;

        /// <summary>A short non-reversible fingerprint, to key per-account state (rate budgets) without keeping the key.</summary>
        public string Fingerprint => _fingerprint;

        public override string ToString() => "***";

        private static string ComputeFingerprint(string value)
        {
            using var sha = System.Security.Cryptography.SHA256.Create();
            var hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(value));
            return BitConverter.ToString(hash, 0, 8).Replace("-", string.Empty).ToLowerInvariant();
        }
    }
}

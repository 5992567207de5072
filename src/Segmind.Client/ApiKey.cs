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

        private readonly string _value;

        public ApiKey(string value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new SegmindValidationException("ApiKey", "The API key is empty.");
            }

            _value = value.Trim();
        }

        /// <summary>The key from <c>SEGMIND_API_KEY</c>, or null when it is not set.</summary>
        public static ApiKey? FromEnvironment()
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(value) ? null : new ApiKey(value!);
        }

        /// <summary>The secret itself: only the HTTP layer may call this, to set the x-api-key header.</summary>
        internal string Reveal() => _value;

        /// <summary>A short non-reversible fingerprint, to key per-account state (rate budgets) without keeping the key.</summary>
        public string Fingerprint
        {
            get
            {
                using var sha = System.Security.Cryptography.SHA256.Create();
                var hash = sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes(_value));
                return BitConverter.ToString(hash, 0, 8).Replace("-", string.Empty).ToLowerInvariant();
            }
        }

        public override string ToString() => "***";
    }
}

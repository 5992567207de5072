using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// The secret that opens a journal table: a SAS token (sent as the query string) or a storage connection string
    /// with an account key (each request signed with SharedKeyLite) or a SAS. Opaque like <see cref="ApiKey"/>:
    /// <see cref="ToString"/> never reveals it, and <see cref="Redact"/> scrubs it from any text that leaves the core.
    /// </summary>
    public sealed class TableCredential
    {
        /// <summary>Environment variable holding a SAS token for the journal table.</summary>
        public const string SasEnvironmentVariable = "SEGMIND_JOURNAL_SAS";

        /// <summary>Environment variable holding a storage connection string for the journal table.</summary>
        public const string ConnectionStringEnvironmentVariable = "SEGMIND_JOURNAL_CONNECTION_STRING";

        // The emulator's documented development account: public, the same on every machine.
        private const string DevelopmentAccount = "devstoreaccount1";
        private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

        private static readonly Regex SignatureInText = new Regex("(sig=)[^&\\s\"'<>]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        private readonly string? _sas;
        private readonly byte[]? _key;
        private readonly string[] _secrets;

        private TableCredential(string? sas, string? accountName, byte[]? key, string[] secrets)
        {
            _sas = sas;
            AccountName = accountName;
            _key = key;
            _secrets = secrets;
        }

        /// <summary>The account a connection string names; null for a bare SAS token.</summary>
        public string? AccountName { get; }

        /// <summary>True when requests are signed with an account key rather than carrying a SAS.</summary>
        internal bool UsesAccountKey => _key != null;

        /// <summary>
        /// A SAS token (with or without its leading '?') or a connection string (<c>AccountName=...;AccountKey=...</c>,
        /// <c>...;SharedAccessSignature=...</c> or <c>UseDevelopmentStorage=true</c>). <paramref name="field"/> is named
        /// in errors; the secret never is.
        /// </summary>
        public static TableCredential Parse(string secret, string field)
        {
            var text = (secret ?? string.Empty).Trim();
            if (text.Length == 0)
            {
                throw new SegmindValidationException(field, "The journal credential is empty.");
            }

            if (text.IndexOf('=') > 0 && text.IndexOf(';') >= 0 || text.StartsWith("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase)
                || text.StartsWith("AccountName=", StringComparison.OrdinalIgnoreCase) || text.StartsWith("DefaultEndpointsProtocol=", StringComparison.OrdinalIgnoreCase))
            {
                return FromConnectionString(text, field);
            }

            return FromSas(text, field);
        }

        /// <summary>
        /// The credential from <see cref="SasEnvironmentVariable"/> or <see cref="ConnectionStringEnvironmentVariable"/>;
        /// null when neither is set. Both set is an error: which one was meant cannot be guessed.
        /// </summary>
        public static TableCredential? FromEnvironment(string field)
        {
            var sas = Environment.GetEnvironmentVariable(SasEnvironmentVariable);
            var connection = Environment.GetEnvironmentVariable(ConnectionStringEnvironmentVariable);
            var hasSas = !string.IsNullOrWhiteSpace(sas);
            var hasConnection = !string.IsNullOrWhiteSpace(connection);
            if (hasSas && hasConnection)
            {
                throw new SegmindValidationException(field, $"Both {SasEnvironmentVariable} and {ConnectionStringEnvironmentVariable} are set; set only one.");
            }

            if (hasSas)
            {
                return FromSas(sas!.Trim(), field);
            }

            return hasConnection ? FromConnectionString(connection!.Trim(), field) : null;
        }

        private static TableCredential FromSas(string text, string field)
        {
            var sas = text.TrimStart('?');
            if (sas.IndexOf("sig=", StringComparison.OrdinalIgnoreCase) < 0 || sas.IndexOf(' ') >= 0)
            {
                throw new SegmindValidationException(field, "The journal credential is neither a SAS token (a query string with sig=...) nor a storage connection string.");
            }

            return new TableCredential(sas, null, null, SecretsOf(sas));
        }

        private static TableCredential FromConnectionString(string text, string field)
        {
            var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var piece in text.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = piece.IndexOf('=');
                if (equals <= 0)
                {
                    throw new SegmindValidationException(field, "The journal connection string is malformed: each part must be name=value, separated by ';'.");
                }

                parts[piece.Substring(0, equals).Trim()] = piece.Substring(equals + 1).Trim();
            }

            if (parts.TryGetValue("UseDevelopmentStorage", out var development) && string.Equals(development, "true", StringComparison.OrdinalIgnoreCase))
            {
                return new TableCredential(null, DevelopmentAccount, Convert.FromBase64String(DevelopmentKey), new[] { DevelopmentKey });
            }

            parts.TryGetValue("AccountName", out var account);
            if (parts.TryGetValue("SharedAccessSignature", out var sas) && !string.IsNullOrWhiteSpace(sas))
            {
                var token = sas.TrimStart('?');
                return new TableCredential(token, NullIfEmpty(account), null, SecretsOf(token));
            }

            if (!parts.TryGetValue("AccountKey", out var keyText) || string.IsNullOrWhiteSpace(keyText) || string.IsNullOrWhiteSpace(account))
            {
                throw new SegmindValidationException(field, "The journal connection string needs AccountName and AccountKey, or a SharedAccessSignature.");
            }

            byte[] key;
            try
            {
                key = Convert.FromBase64String(keyText);
            }
            catch (FormatException)
            {
                throw new SegmindValidationException(field, "The journal connection string's AccountKey is not base64.");
            }

            return new TableCredential(null, account!.ToLowerInvariant(), key, new[] { keyText });
        }

        /// <summary>Checks that this credential can open <paramref name="address"/> (a connection string names its account).</summary>
        internal void EnsureMatches(TableAddress address, string field)
        {
            if (AccountName != null && !string.Equals(AccountName, address.AccountName, StringComparison.OrdinalIgnoreCase))
            {
                throw new SegmindValidationException(field, $"The journal connection string is for the storage account '{AccountName}', but the journal address names '{address.AccountName}'.");
            }
        }

        /// <summary>The request address with the SAS appended (a key-signed request needs nothing in the address).</summary>
        internal Uri Authorize(Uri uri)
        {
            if (_sas == null)
            {
                return uri;
            }

            var builder = new UriBuilder(uri);
            var query = builder.Query.TrimStart('?');
            builder.Query = query.Length == 0 ? _sas : query + "&" + _sas;
            return builder.Uri;
        }

        /// <summary>The SharedKeyLite Authorization header value for a request whose x-ms-date is <paramref name="date"/>.</summary>
        internal string? Sign(string accountName, Uri uri, string date)
        {
            if (_key == null)
            {
                return null;
            }

            // SharedKeyLite for the Table service: date, newline, "/account" + the encoded path (+ "?comp=..." if any).
            var resource = "/" + accountName + uri.AbsolutePath;
            var comp = CompParameter(uri.Query);
            if (comp != null)
            {
                resource += "?comp=" + comp;
            }

            using var hmac = new HMACSHA256(_key);
            var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(date + "\n" + resource)));
            return "SharedKeyLite " + accountName + ":" + signature;
        }

        /// <summary>
        /// <paramref name="text"/> with every part of this credential, and any <c>sig=</c> value, replaced by
        /// <c>&lt;redacted&gt;</c>: for server messages and exception texts that might quote a request.
        /// </summary>
        public string Redact(string? text)
        {
            if (string.IsNullOrEmpty(text))
            {
                return text ?? string.Empty;
            }

            var result = text!;
            foreach (var secret in _secrets)
            {
                if (secret.Length >= 8)
                {
                    result = result.Replace(secret, "<redacted>");
                }
            }

            return SignatureInText.Replace(result, "$1<redacted>");
        }

        public override string ToString() => "***";

        private static string[] SecretsOf(string sas)
        {
            var secrets = new List<string> { sas };
            foreach (var pair in sas.Split('&'))
            {
                if (pair.StartsWith("sig=", StringComparison.OrdinalIgnoreCase))
                {
                    var value = pair.Substring(4);
                    secrets.Add(value);
                    secrets.Add(Uri.UnescapeDataString(value));
                }
            }

            return secrets.ToArray();
        }

        private static string? CompParameter(string query)
        {
            foreach (var pair in query.TrimStart('?').Split('&'))
            {
                if (pair.StartsWith("comp=", StringComparison.OrdinalIgnoreCase))
                {
                    return pair.Substring(5);
                }
            }

            return null;
        }

        private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value!.Trim().ToLowerInvariant();

        internal static string FormatDate(DateTimeOffset instant) => instant.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
    }
}

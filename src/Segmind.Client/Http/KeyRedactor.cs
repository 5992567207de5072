using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Segmind.Client.Http
{
    /// <summary>
    /// The one place where text from a server is cleaned of the API key, before anything reads it. It finds the key in
    /// any letter case, with any of its characters written as a JSON escape (<c>\u0073</c>, <c>\/</c>), an HTML entity
    /// (<c>&amp;#115;</c>, <c>&amp;#x73;</c>) or a percent escape (<c>%73</c>), and also a key cut short: any run of its
    /// first <see cref="MinimumCut"/> characters or more. Answers are cleaned whole, before they are parsed or shortened
    /// for a message, so a truncated message cannot end in part of the key either.
    /// </summary>
    internal sealed class KeyRedactor
    {
        public const string Mask = "***";

        /// <summary>A prefix this long of the key is treated as the key: a random key shares it with other text only by accident.</summary>
        public const int MinimumCut = 8;

        private static readonly ConditionalWeakTable<ApiKey, KeyRedactor> Cache = new ConditionalWeakTable<ApiKey, KeyRedactor>();

        private readonly string _head;
        private readonly Regex _pattern;

        private KeyRedactor(string secret)
        {
            var cut = Math.Min(secret.Length, MinimumCut);
            _head = secret.Substring(0, cut);
            _pattern = new Regex(BuildPattern(secret, cut), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        }

        public static KeyRedactor For(ApiKey key) => Cache.GetValue(key, k => new KeyRedactor(k.Reveal()));

        /// <summary>The text with every form of the key replaced by <see cref="Mask"/>; null stays null.</summary>
        public string? Clean(string? text)
        {
            if (string.IsNullOrEmpty(text) || !MayHold(text!))
            {
                return text;
            }

            return _pattern.Replace(text!, Mask);
        }

        /// <summary>A UTF-8 body cleaned the same way; the same array when there was nothing to clean.</summary>
        public byte[] Clean(byte[] body)
        {
            if (body.Length == 0)
            {
                return body;
            }

            var text = Encoding.UTF8.GetString(body);
            var cleaned = Clean(text);
            return ReferenceEquals(cleaned, text) || string.Equals(cleaned, text, StringComparison.Ordinal) ? body : Encoding.UTF8.GetBytes(cleaned!);
        }

        /// <summary>A cheap test that skips the expression for text that cannot hold the key (large base64 outputs).</summary>
        private bool MayHold(string text) =>
            text.IndexOf(_head, StringComparison.OrdinalIgnoreCase) >= 0
            || text.IndexOf('\\') >= 0
            || text.IndexOf('&') >= 0
            || text.IndexOf('%') >= 0;

        private static string BuildPattern(string secret, int cut)
        {
            // The first 'cut' characters are required; each further one is optional but only after the one before it.
            var pattern = new StringBuilder();
            for (var i = 0; i < cut; i++)
            {
                pattern.Append(AnyForm(secret[i]));
            }

            for (var i = cut; i < secret.Length; i++)
            {
                pattern.Append("(?:").Append(AnyForm(secret[i]));
            }

            for (var i = cut; i < secret.Length; i++)
            {
                pattern.Append(")?");
            }

            return pattern.ToString();
        }

        /// <summary>One character of the key, written plainly or escaped, in either letter case.</summary>
        private static string AnyForm(char c)
        {
            var forms = new StringBuilder("(?:").Append(Regex.Escape(c.ToString()));
            foreach (var variant in Variants(c))
            {
                var code = (int)variant;
                forms.Append(@"|\\u").Append(code.ToString("x4", CultureInfo.InvariantCulture));
                forms.Append("|&#0*").Append(code.ToString(CultureInfo.InvariantCulture)).Append(';');
                forms.Append("|&#x0*").Append(code.ToString("x", CultureInfo.InvariantCulture)).Append(';');
                if (code < 0x80)
                {
                    forms.Append("|%").Append(code.ToString("x2", CultureInfo.InvariantCulture));
                }
            }

            if (c == '/')
            {
                forms.Append(@"|\\/");
            }

            return forms.Append(')').ToString();
        }

        private static char[] Variants(char c)
        {
            var lower = char.ToLowerInvariant(c);
            var upper = char.ToUpperInvariant(c);
            return lower == upper ? new[] { c } : new[] { lower, upper };
        }
    }
}
